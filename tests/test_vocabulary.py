"""The shared literal types are spelled once, in mcp_server/vocabulary.py; every other module imports them."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Literal, get_args, get_origin

from mcp_server import vocabulary

ROOT = Path(__file__).resolve().parent.parent
SHARED = {name: frozenset(get_args(value)) for name, value in vars(vocabulary).items() if get_origin(value) is Literal}
# Temporary: modules under restructuring (the read pipeline) that still spell these literals; the entries go when
# that work lands.
PENDING = {
    "mcp_server/server.py",
    "mcp_server/tools/models.py",
    "mcp_server/tools/schema_search.py",
}


def literal_values(node: ast.AST) -> frozenset[str] | None:
    """The strings of a `Literal[...]` subscript, or None for any other node."""
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name | ast.Attribute)):
        return None
    name = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
    if name != "Literal":
        return None
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if not all(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items):
        return None
    return frozenset(i.value for i in items)  # type: ignore[attr-defined]


def respelled(path: Path, root: Path = ROOT) -> list[str]:
    """`file:line` of every Literal in `path` that spells one of the shared literal types."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        values = literal_values(node)
        for name, shared in SHARED.items():
            if values == shared:
                found.append(f"{path.relative_to(root)}:{node.lineno}: Literal of {name}")  # type: ignore[attr-defined]
    return found


def test_the_vocabulary_defines_the_shared_literals() -> None:
    assert {"ColumnKind", "PredicateMode", "Operator"} <= set(SHARED)


def test_no_module_spells_a_shared_literal_again() -> None:
    paths = [p for package in ("mcp_server", "connectors") for p in sorted((ROOT / package).rglob("*.py"))]
    found = [
        hit
        for path in paths
        if path.name != "vocabulary.py" and str(path.relative_to(ROOT)) not in PENDING
        for hit in respelled(path)
    ]
    assert not found, "import these from mcp_server.vocabulary instead:\n" + "\n".join(found)
    stale = sorted(p for p in PENDING if not (ROOT / p).exists() or not respelled(ROOT / p))
    assert not stale, f"no longer respelling a shared literal, remove from PENDING: {stale}"


def test_a_respelled_literal_is_found_in_any_order_and_a_different_one_is_not(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "import typing\nfrom typing import Literal\n"
        'Mode = typing.Literal["any", "none", "equality"]\n'
        'def f(kind: Literal["pii", "text"]) -> None: ...\n'
    )
    assert respelled(module, tmp_path) == ["probe.py:3: Literal of PredicateMode"]
