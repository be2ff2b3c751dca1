"""`maskwire demo` as a newcomer runs it: the scripted session shows masked data and a usage table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mcp_server.demo.data import build_demo_workspace

pytestmark = pytest.mark.e2e


def test_demo_prints_only_masked_data_and_usage(tmp_path: Path) -> None:
    workspace = tmp_path / "demo"
    run = subprocess.run(
        [sys.executable, "-m", "mcp_server.cli", "demo", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    assert "<EMAIL_ADDRESS:" in out and "<PERSON:" in out and "<US_SSN:" in out
    assert "Usage ledger" in out and "demo-agent" in out and "tokens out" in out
    assert "ERROR only read-only queries" in out  # the write was denied
    seeded = build_demo_workspace(tmp_path / "again").seeded.must_not_leak()  # same seed, same values
    leaked = [v for v in seeded if v.casefold() in out.casefold()]
    assert not leaked, leaked[:5]
    assert "Traceback" not in run.stderr
