"""Where Maskwire keeps its own files when a config does not say."""

from __future__ import annotations

import os
from pathlib import Path


def maskwire_home() -> Path:
    """`$MASKWIRE_HOME`, else `~/.maskwire`: home of the demo workspace."""
    configured = os.environ.get("MASKWIRE_HOME")
    return Path(configured).expanduser() if configured else Path.home() / ".maskwire"


def private_file(path: Path, data: bytes) -> None:
    """Write a file only the owner can read (created 0600 before any byte is written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
