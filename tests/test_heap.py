"""The console script pauses the garbage collector while it imports, and every command collects again: a server
once it is built (`heap.tune`), any other command once it is chosen. Run in subprocesses: the collector's state is
the interpreter's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mcp_server.heap import THRESHOLDS


def _python(code: str, cwd: Path) -> str:
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_a_command_collects_again_once_it_is_chosen(tmp_path: Path) -> None:
    code = (
        "import gc\n"
        "from mcp_server import heap\n"
        "heap.pause()\n"
        "from mcp_server.cli import main\n"
        "paused = not gc.isenabled()\n"
        "code = main(['usage', '--config', 'missing.toml'])\n"
        "print(paused, gc.isenabled(), code)\n"
    )
    assert _python(code, tmp_path) == "True True 2"


def test_a_server_collects_again_once_it_is_built(tmp_path: Path) -> None:
    code = (
        "import gc\n"
        "from mcp_server import heap\n"
        "heap.pause()\n"
        "from mcp_server.cli import build_parser\n"
        "paused = not gc.isenabled()\n"
        "heap.tune()\n"
        "print(paused, gc.isenabled(), gc.get_threshold())\n"
    )
    assert _python(code, tmp_path) == f"True True {THRESHOLDS}"


def test_the_module_runs_the_console_script(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mcp_server", "--version"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("maskwire ")
