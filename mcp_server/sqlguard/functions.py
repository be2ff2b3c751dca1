"""Functions the guard refuses anywhere in a query (select list, FROM, WHERE, subqueries...).

Matched case-insensitively on the function's name (for functions sqlglot models, on every SQL name
of its class), whether called as a scalar or as a table function:

- PostgreSQL: file access (pg_read_file, pg_read_binary_file, pg_ls_dir, pg_stat_file), large objects
  (lo_* , loread, lowrite), dblink and dblink_*, sleeping (pg_sleep*), settings and server control
  (set_config, pg_terminate_backend, pg_cancel_backend, pg_reload_conf, pg_rotate_logfile), functions
  that run SQL text or dump whole tables (query_to_xml and every *_to_xml*, ts_stat, ts_rewrite,
  xpath_table, crosstab*, connectby), sequence writes (nextval, setval). Any other unmodelled function
  whose name starts with pg_ is refused too, except a few harmless ones (PG_ALLOWED below).
  current_setting is allowed.
- MySQL / MariaDB: load_file, sleep, benchmark, named locks (get_lock, release_lock,
  release_all_locks, is_free_lock, is_used_lock), replication waits (master_pos_wait,
  source_pos_wait, wait_for_executed_gtid_set, wait_until_sql_thread_after_gtids), error-based
  exfiltration helpers (updatexml, extractvalue), last_insert_id (it can store a value in the
  session), and UDF-style sys_exec / sys_eval - in fact anything whose name contains "exec" or "eval".
- SQLite: load_extension, readfile, writefile, edit, fts3_tokenizer, the shell's file helpers
  (fsdir, zipfile, sqlar_compress, sqlar_uncompress, lsmode), and pragma_* table functions (they
  describe tables outside the schema the agent may see).

The lists apply in every dialect: a name that is dangerous in one database has no business in another.
"""

from __future__ import annotations

from sqlglot import exp

DENIED = frozenset(
    {
        # PostgreSQL
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "loread",
        "lowrite",
        "dblink",
        "pg_sleep",
        "pg_sleep_for",
        "pg_sleep_until",
        "set_config",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "ts_stat",
        "ts_rewrite",
        "xpath_table",
        "connectby",
        "nextval",
        "setval",
        # MySQL / MariaDB
        "load_file",
        "sleep",
        "benchmark",
        "get_lock",
        "release_lock",
        "release_all_locks",
        "is_free_lock",
        "is_used_lock",
        "master_pos_wait",
        "source_pos_wait",
        "wait_for_executed_gtid_set",
        "wait_until_sql_thread_after_gtids",
        "updatexml",
        "extractvalue",
        "last_insert_id",
        "sys_exec",
        "sys_eval",
        # SQLite
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
        "fsdir",
        "zipfile",
        "sqlar_compress",
        "sqlar_uncompress",
        "lsmode",
    }
)
DENIED_PREFIXES = ("pg_", "dblink_", "lo_", "crosstab", "pragma_")
DENIED_SUBSTRINGS = ("exec", "eval", "_to_xml")
PG_ALLOWED = frozenset(
    {"pg_typeof", "pg_column_size", "pg_size_pretty", "pg_size_bytes", "pg_client_encoding", "pg_input_is_valid"}
)


def function_names(node: exp.Func) -> set[str]:
    """Lower-cased names a function node may have been written as."""
    if isinstance(node, exp.Anonymous):
        return {node.name.lower()}
    return {name.lower() for name in type(node).sql_names()} | {node.key.lower()}


def is_denied(name: str) -> bool:
    name = name.lower()
    if name in DENIED or any(part in name for part in DENIED_SUBSTRINGS):
        return True
    if name in PG_ALLOWED:
        return False
    return name.startswith(DENIED_PREFIXES)


def denied_name(node: exp.Func) -> str | None:
    """The first denied name of this function node, or None."""
    for name in sorted(function_names(node)):
        if is_denied(name):
            return name
    return None
