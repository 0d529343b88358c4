"""Publishing a finished build for readers: a DuckDB snapshot and Parquet files, each swapped in by one atomic rename.

DuckDB lets one process write a file and refuses readers while it does
("Could not set lock on file"), so BI tools never open the build's working
file. They read the published snapshot, which is written beside it under a
temporary name and renamed over the old one only after the build succeeded:
a reader sees the previous complete mart or the new complete mart, never a
half-built one, and is never refused (docs/decisions/0003-publish-by-rename.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

logger = logging.getLogger(__name__)

SNAPSHOT_NAME = "crm_priority.duckdb"
MANIFEST_NAME = "manifest.json"
# The oldest storage format that holds the marts: every DuckDB from 1.0.0 on (what BI drivers embed) reads it.
SNAPSHOT_STORAGE_VERSION = "v1.0.0"
PUBLISHED_RELATIONS = (
    "client_priority",
    "client_priority_rejects",
    "aum_distribution",
    "allocation_queue",
    "client_eligibility",
    "client_tier_changes",
)


class BuildLockedError(RuntimeError):
    """Another build holds the working database."""


@dataclass(frozen=True)
class PublishedBuild:
    snapshot: Path
    parquet: dict[str, Path]
    row_counts: dict[str, int]
    checksum: str


@contextmanager
def build_lock(working_db: Path) -> Iterator[None]:
    """Hold an exclusive lock for one build; a second concurrent build fails at once with a clear message."""
    lock_path = working_db.with_name(working_db.name + ".build-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLockedError(
                f"Another build is running on {working_db} (lock {lock_path}); scheduled builds must not overlap."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def mart_checksum(connection: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Order-independent fingerprint of a table's rows, to tell one build's mart from another's."""
    row = connection.execute(
        f"select count(*), coalesce(bit_xor(hash(t)), 0), coalesce(sum(hash(t) % 1000003), 0) from {relation} t"
    ).fetchone()
    assert row is not None
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:16]


def publish(working_db: Path, publish_dir: Path, relations: Sequence[str] = PUBLISHED_RELATIONS) -> PublishedBuild:
    """Copy the finished marts out of the working database and swap them in for readers."""
    publish_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{os.getpid()}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"
    staged_snapshot = publish_dir / f".{SNAPSHOT_NAME}.{stamp}.tmp"
    staged_parquet = {name: publish_dir / f".{name}.parquet.{stamp}.tmp" for name in relations}
    connection = duckdb.connect()
    try:
        connection.execute(f"attach '{working_db}' as build (read_only)")
        connection.execute(f"attach '{staged_snapshot}' as snapshot (storage_version '{SNAPSHOT_STORAGE_VERSION}')")
        row_counts: dict[str, int] = {}
        for name in relations:
            connection.execute(f"create table snapshot.main.{name} as select * from build.main.{name}")
            connection.execute(f"copy build.main.{name} to '{staged_parquet[name]}' (format parquet)")
            counted = connection.execute(f"select count(*) from build.main.{name}").fetchone()
            row_counts[name] = int(counted[0]) if counted else 0
        checksum = mart_checksum(connection, "build.main.client_priority")
        connection.execute("detach snapshot")
        connection.execute("detach build")
    except BaseException:
        for leftover in [staged_snapshot, *staged_parquet.values()]:
            leftover.unlink(missing_ok=True)
        raise
    finally:
        connection.close()

    for path in [staged_snapshot, *staged_parquet.values()]:
        _fsync(path)
    # Parquet first, the snapshot next, the manifest last: the manifest never names files older than itself.
    parquet = {}
    for name, staged in staged_parquet.items():
        parquet[name] = publish_dir / f"{name}.parquet"
        os.replace(staged, parquet[name])
    snapshot = publish_dir / SNAPSHOT_NAME
    os.replace(staged_snapshot, snapshot)
    manifest = {
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "snapshot": snapshot.name,
        "duckdb_storage_version": SNAPSHOT_STORAGE_VERSION,
        "parquet": {name: path.name for name, path in parquet.items()},
        "row_counts": row_counts,
        "client_priority_checksum": checksum,
    }
    staged_manifest = publish_dir / f".{MANIFEST_NAME}.{stamp}.tmp"
    staged_manifest.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(staged_manifest, publish_dir / MANIFEST_NAME)
    _fsync(publish_dir)
    logger.info("published %s: %s", snapshot, row_counts)
    return PublishedBuild(snapshot=snapshot, parquet=parquet, row_counts=row_counts, checksum=checksum)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
