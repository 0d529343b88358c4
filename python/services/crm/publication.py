"""What every engine's publishing step shares: the record of a publication and the ways publishing fails."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path


class PublishError(RuntimeError):
    """Publishing failed; readers keep the previous publication. The message says what and where."""


class BuildLockedError(RuntimeError):
    """Another build holds the lock on the same working database, publish folder or warehouse schema."""


@dataclass(frozen=True)
class Publication:
    """One build made visible to readers: where, which build, what it holds."""

    build_id: str
    location: str
    row_counts: dict[str, int]
    checksum: str
    details: dict[str, str] = field(default_factory=dict)


def checksum_of(*parts: object) -> str:
    """A short, stable fingerprint of an engine's order-independent row aggregates."""
    return hashlib.sha256(repr(tuple(str(part) for part in parts)).encode()).hexdigest()[:16]


def fsync_path(path: Path) -> None:
    """Flush a file or a folder to disk: a renamed-in publication must survive a power cut whole."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
