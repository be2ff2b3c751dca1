"""Which functions a query may call, and what each one does with protected values.

Two lists, checked on the function's name whatever position it is called in:

- DENIED: functions that touch the server or the outside world (files, large objects, dblink, sleeping,
  locks, settings, server control, functions that run SQL text or dump tables, sequences). Any other
  unmodelled PostgreSQL `pg_*` function is denied too.
- ALLOWED: pure built-ins whose lineage is modelled, each with a `FunctionRule`. A function on neither list
  is refused, naming it; an operator may add names per source (`allow_functions`), which are treated as
  opaque: no protected column may reach them and their output is scanned as free text.

A rule says what the output is made of (`role`) and which arguments may carry a value of a restricted column
without any risk of an error (`total`): an error that depends on a value is a one-bit answer about it
(`1 / (ascii(ssn) - 49)`), and an argument that sets a size or a position decides the shape of the output.
Server facts (version(), current_setting(), current_user, transaction ids...) are on neither list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

Role = Literal["transform", "measure", "pick", "order_pick", "aggregate", "constant", "rows", "rank", "opaque"]
"""transform: a value computed from the arguments. measure: the size of a value (clear for free text, masked for
personal data). pick: one argument's value unchanged (first_value, lag). order_pick: a value chosen by comparing
values (min, max): unchanged only when no restricted column takes part. aggregate: a value computed from many
rows. constant: no input (current_date, pi()). rows: a set-returning function (its arguments decide how many
rows). rank: a position within a window (row_number). opaque: an operator-allowed function."""


@dataclass(frozen=True)
class FunctionRule:
    role: Role
    total: frozenset[str] = frozenset()
    """Argument names (typed sqlglot nodes) or positions ("0", "1"... for functions sqlglot does not model)
    that may carry a restricted value; "*" for every argument."""
    picks: tuple[str, ...] = ("this",)
    """For pick roles: the arguments whose values come out (lag's default is one)."""
    order_sensitive: bool = False
    """The result depends on the order of the rows (string_agg, array_agg, first_value, lag...): without an
    ORDER BY of its own, that order is the database's choice."""

    def is_total(self, arg: str) -> bool:
        return "*" in self.total or arg in self.total


def _rule(role: Role, *total: str, picks: tuple[str, ...] = ("this",), ordered: bool = False) -> FunctionRule:
    return FunctionRule(role, frozenset(total), picks, ordered)


OPAQUE = FunctionRule("opaque")
"""An operator-allowed function: what it reads and returns is not modelled."""
TOTAL_THIS = ("this",)

# Functions sqlglot models, by class name.
TYPED: dict[str, FunctionRule] = {
    # text
    **{
        name: _rule("transform", *TOTAL_THIS)
        for name in (
            "Upper",
            "Lower",
            "Initcap",
            "Reverse",
            "Ascii",
            "Unicode",
            "Typeof",
            "Soundex",
            "Hex",
            "MD5",
            "SHA",
            "SHA2",
            "SHA2Digest",
            "ToBase64",
            "Encode",
            "StartsWith",
            "EndsWith",
            "Left",
            "Right",
            "Substring",
            "SplitPart",
            "Trim",
            "StrPosition",
            "Pad",
            "Overlay",
            "Stuff",
        )
    },
    "Replace": _rule("transform", "*"),
    "Translate": _rule("transform", "*"),
    "Concat": _rule("transform", "*"),
    "ConcatWs": _rule("transform", "*"),
    "Format": _rule("transform", "expressions"),
    "Repeat": _rule("transform"),
    "Space": _rule("transform"),
    "Chr": _rule("transform"),
    "Levenshtein": _rule("transform"),
    "Elt": _rule("transform", "expressions"),
    "Length": _rule("measure", *TOTAL_THIS),
    "BitLength": _rule("measure", *TOTAL_THIS),
    # regular expressions: a value-dependent match time or engine limit is an error channel
    "RegexpReplace": _rule("transform"),
    "RegexpSubstr": _rule("transform"),
    "RegexpInstr": _rule("transform"),
    "RegexpCount": _rule("transform"),
    "RegexpLike": _rule("transform"),
    # dates and times (parsing text is not total; reading parts of a date is)
    **{
        name: _rule("transform", *TOTAL_THIS)
        for name in ("Year", "Month", "Day", "DayOfWeek", "LastDay", "DateTrunc", "TimestampTrunc", "ToChar")
    },
    "TimeToStr": _rule("transform", "this"),
    "DateBin": _rule("transform"),
    "Extract": _rule("transform", "expression"),
    "DateAdd": _rule("transform"),
    "DateSub": _rule("transform"),
    "DateDiff": _rule("transform"),
    "TimestampDiff": _rule("transform"),
    # conversions between text, numbers and dates (sqlglot writes some functions through them, e.g. SQLite's
    # strftime over TsOrDsToTimestamp): they fail on some inputs in some engines
    **{
        name: _rule("transform")
        for name in (
            "Date",
            "Datetime",
            "Time",
            "Timestamp",
            "TsOrDsToDate",
            "TsOrDsToDatetime",
            "TsOrDsToTime",
            "TsOrDsToTimestamp",
            "TsOrDsToDateStr",
            "TsOrDsAdd",
            "TsOrDsDiff",
            "TimeStrToDate",
            "TimeStrToTime",
            "TimeStrToUnix",
            "TimeToTimeStr",
            "TimeToUnix",
            "DateStrToDate",
            "DateToDateStr",
            "StrToDate",
            "StrToTime",
            "StrToUnix",
            "UnixToTime",
            "UnixToStr",
            "UnixToTimeStr",
            "DatetimeAdd",
            "DatetimeSub",
            "DatetimeDiff",
            "DatetimeTrunc",
            "TimestampAdd",
            "TimestampSub",
            "TimeAdd",
            "TimeSub",
            "TimeDiff",
            "TimeTrunc",
            "DateFromParts",
        )
    },
    "ToNumber": _rule("transform"),
    "Interval": _rule("transform"),
    # numbers
    **{name: _rule("transform", *TOTAL_THIS) for name in ("Round", "Ceil", "Floor", "Sign", "Trunc")},
    **{
        name: _rule("transform")
        for name in ("Abs", "Sqrt", "Pow", "Ln", "Log", "Exp", "Mod", "WidthBucket", "Sin", "Cos", "Tan", "Cot")
    },
    # JSON and arrays (building is total; parsing a value is not)
    "JSONObject": _rule("transform", "*"),
    "JSONKeyValue": _rule("transform", "*"),
    "Array": _rule("transform", "*"),
    "Struct": _rule("transform", "*"),
    "ArrayToString": _rule("transform", "this"),
    "StringToArray": _rule("transform", "this"),
    "ArraySize": _rule("transform", "this"),
    "JSONExtract": _rule("transform"),
    "JSONExtractScalar": _rule("transform"),
    "JSONBExtract": _rule("transform"),
    "JSONBExtractScalar": _rule("transform"),
    # aggregates
    "Sum": _rule("aggregate"),
    "Avg": _rule("aggregate", "this"),
    "Stddev": _rule("aggregate", "this"),
    "StddevPop": _rule("aggregate", "this"),
    "StddevSamp": _rule("aggregate", "this"),
    "Variance": _rule("aggregate", "this"),
    "VariancePop": _rule("aggregate", "this"),
    # two-variable statistics: floats of any inputs, never an error
    **{
        name: _rule("aggregate", "this", "expression")
        for name in (
            "Corr",
            "CovarPop",
            "CovarSamp",
            "RegrSlope",
            "RegrIntercept",
            "RegrR2",
            "RegrCount",
            "RegrAvgx",
            "RegrAvgy",
            "RegrSxx",
            "RegrSyy",
            "RegrSxy",
        )
    },
    "LogicalAnd": _rule("aggregate", "this"),
    "LogicalOr": _rule("aggregate", "this"),
    "GroupConcat": _rule("aggregate", "this", ordered=True),
    "ArrayAgg": _rule("aggregate", "this", ordered=True),
    "JSONArrayAgg": _rule("aggregate", "this", ordered=True),
    "JSONObjectAgg": _rule("aggregate", ordered=True),
    "JSONBObjectAgg": _rule("aggregate", ordered=True),
    "PercentileCont": _rule("aggregate"),
    "Min": _rule("order_pick", "this"),
    "Max": _rule("order_pick", "this"),
    "Mode": _rule("order_pick", "this"),
    "PercentileDisc": _rule("order_pick"),
    "AnyValue": _rule("pick", "this", ordered=True),
    # windows
    "FirstValue": _rule("pick", "this", ordered=True),
    "LastValue": _rule("pick", "this", ordered=True),
    "NthValue": _rule("pick", "this", ordered=True),
    "Lag": _rule("pick", "this", "default", picks=("this", "default"), ordered=True),
    "Lead": _rule("pick", "this", "default", picks=("this", "default"), ordered=True),
    **{name: _rule("rank") for name in ("RowNumber", "Rank", "DenseRank", "PercentRank", "CumeDist", "Ntile")},
    # no input
    **{
        name: _rule("constant")
        for name in ("CurrentDate", "CurrentTimestamp", "CurrentTime", "CurrentDatetime", "Pi", "Rand", "Uuid")
    },
    # set-returning
    "Unnest": _rule("rows"),
    "Explode": _rule("rows"),
    "GenerateSeries": _rule("rows"),
    "ExplodingGenerateSeries": _rule("rows"),
}

# Functions sqlglot leaves unmodelled (exp.Anonymous), by lower-case name, with positional arguments.
ANONYMOUS: dict[str, FunctionRule] = {
    **{
        name: _rule("transform", "*")
        for name in (
            "row",
            "json_build_object",
            "jsonb_build_object",
            "json_build_array",
            "jsonb_build_array",
            "to_json",
            "to_jsonb",
            "row_to_json",
            "array_to_json",
            "json_array",
            "json_quote",
            "quote",
            "printf",
            "btrim",
            "convert_to",
            "crc32",
            "field",
            "find_in_set",
            "age",
            "julianday",
            "strftime",
        )
    },
    "mid": _rule("transform", "0"),
    "date_part": _rule("transform", "1"),
    "date_format": _rule("transform", "0"),
    "octet_length": _rule("measure", "0"),
    "char_length": _rule("measure", "0"),
    "character_length": _rule("measure", "0"),
    "cardinality": _rule("measure", "0"),
    **{
        name: _rule("transform")
        for name in (
            "to_date",
            "to_timestamp",
            "make_date",
            "make_timestamp",
            "from_unixtime",
            "unix_timestamp",
            "json_typeof",
            "jsonb_typeof",
            "json_array_length",
            "jsonb_array_length",
            "jsonb_pretty",
            "json_valid",
            "json_length",
            "json_unquote",
            "json_contains",
            "json_search",
            "bit_count",
            "translate",
            "iff",
        )
    },
    **{name: _rule("aggregate", "0", ordered=True) for name in ("json_agg", "jsonb_agg", "json_group_array")},
    "total": _rule("aggregate", "0"),
    "every": _rule("aggregate", "0"),
    **{
        name: _rule("aggregate", ordered=True)
        for name in ("json_object_agg", "jsonb_object_agg", "json_group_object", "listagg")
    },
    "now": _rule("constant"),
    **{
        name: _rule("rows")
        for name in (
            "generate_series",
            "unnest",
            "json_each",
            "jsonb_each",
            "json_each_text",
            "jsonb_each_text",
            "json_tree",
            "json_array_elements",
            "jsonb_array_elements",
            "json_array_elements_text",
            "jsonb_array_elements_text",
            "json_to_record",
            "json_to_recordset",
            "jsonb_to_record",
            "jsonb_to_recordset",
            "regexp_matches",
            "regexp_split_to_table",
            "string_to_table",
            "json_object_keys",
            "jsonb_object_keys",
        )
    },
}

# Table functions whose result columns are fixed, per dialect.
TABLE_FUNCTION_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sqlite", "json_each"): ("key", "value", "type", "atom", "id", "parent", "fullkey", "path"),
    ("sqlite", "json_tree"): ("key", "value", "type", "atom", "id", "parent", "fullkey", "path"),
}

# Facts about the server, the session or the transaction: never a value of the data, and some have side effects
# (a transaction id is assigned when asked for).
SERVER_FACTS = frozenset(
    {
        "currentuser",
        "sessionuser",
        "currentversion",
        "currentdatabase",
        "currentschema",
        "currentcatalog",
        "currentrole",
        "current_setting",
        "current_user",
        "session_user",
        "current_role",
        "current_database",
        "current_schema",
        "current_schemas",
        "version",
        "user",
        "system_user",
        "database",
        "schema",
        "connection_id",
        "inet_server_addr",
        "inet_server_port",
        "inet_client_addr",
        "inet_client_port",
        "last_insert_rowid",
        "changes",
        "total_changes",
        "sqlite_version",
        "sqlite_source_id",
        "sqlite_compileoption_used",
        "sqlite_compileoption_get",
        "row_count",
        "found_rows",
        "uuid_short",
        "txid_current",
        "txid_current_if_assigned",
        "txid_current_snapshot",
        "txid_status",
        "statement_timestamp",
        "clock_timestamp",
        "timeofday",
        "transaction_timestamp",
        "currval",
        "lastval",
    }
)

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
PG_ALLOWED = frozenset({"pg_typeof", "pg_column_size", "pg_size_pretty", "pg_size_bytes", "pg_input_is_valid"})
ANONYMOUS.update({name: _rule("transform", "0") for name in ("pg_typeof", "pg_column_size")})
ANONYMOUS.update({name: _rule("transform") for name in ("pg_size_pretty", "pg_size_bytes", "pg_input_is_valid")})


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


def shown_name(node: exp.Func) -> str:
    """The function's name for a message (its SQL name; never an argument)."""
    if isinstance(node, exp.Anonymous):
        return node.name.upper()
    return _joined_initials(type(node).sql_name())


def _joined_initials(name: str) -> str:
    """sqlglot spells `JSONBObjectAgg` J_S_O_N_B_OBJECT_AGG: a run of single letters is one word (JSONB_OBJECT_AGG)."""
    words: list[str] = []
    initials = ""
    for part in name.split("_"):
        if len(part) == 1:
            initials += part
            continue
        if initials:
            words.append(initials)
            initials = ""
        words.append(part)
    return "_".join([*words, initials] if initials else words)


def rule_for(node: exp.Func, extra: frozenset[str] = frozenset()) -> FunctionRule | None:
    """The rule for a function node, or None when it is not allowed. `extra`: names an operator allowed."""
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name in extra:
            return OPAQUE
        return ANONYMOUS.get(name)
    if type(node).__name__.lower() in SERVER_FACTS:
        return None
    rule = TYPED.get(type(node).__name__)
    if rule is None and function_names(node) & extra:
        return OPAQUE
    return rule


def is_server_fact(node: exp.Func) -> bool:
    return bool(function_names(node) & SERVER_FACTS) or type(node).__name__.lower() in SERVER_FACTS
