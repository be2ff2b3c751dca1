"""What the detector reports for a text: one entity span. Its own module, so that the column classifier (which
reads findings) and the detector (which runs the classifier's name rules through a recognizer) do not import
each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    entity: str
    start: int
    end: int
    score: float
    bare_name: bool = False
    """A name or place found by NER or the country list alone, not by a pattern, a cue word or a known value."""
