"""Publishing a verified DuckDB build for readers: one versioned folder of files, switched in by one rename.

DuckDB lets one process write a file and refuses readers while it does ("Could not set lock
on file"), so BI tools never open the build's working file. Each publication is a folder of
its own under `versions/`: a DuckDB snapshot of the dashboard marts and one Parquet file per
mart. Readers open stable names (`crm_priority.duckdb`, `client_priority.parquet`, ...) that
are symlinks into `current`, and `current` is itself a symlink to one version folder, replaced
by a single atomic rename. So every reader sees one whole build's files together, the previous
one until the rename and the next one after it, never a mix and never a half-written file
(docs/decisions/0003-publish-by-rename.md).

What readers may see is exactly what the BI role may read on PostgreSQL: the dashboard marts.
The rejects and the tier history hold raw client values and live in a separate operators'
folder (mode 0700), published the same way, with the same build id.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from services.crm.duckdb_settings import duckdb_config
from services.crm.publication import BuildLockedError, Publication, PublishError, checksum_of, fsync_path
from services.crm.warehouse import DuckDBWarehouse, Relations, Warehouse

logger = logging.getLogger(__name__)

SNAPSHOT_NAME = "crm_priority.duckdb"
OPERATORS_SNAPSHOT_NAME = "crm_priority_operators.duckdb"
MANIFEST_NAME = "manifest.json"
CURRENT_LINK = "current"
VERSIONS_DIR = "versions"
# What the BI role may read on PostgreSQL (bi_grants), and so all the readers' folder holds.
READER_RELATIONS = (
    "client_priority",
    "aum_distribution",
    "allocation_queue",
    "client_eligibility",
    "client_tier_changes",
)
# Raw client values and the audit history: operators only.
OPERATOR_RELATIONS = ("client_priority_rejects", "client_tier_history")
# The oldest storage format that holds the marts (plain decimals, text, booleans, timestamps):
# every DuckDB from 0.10 through 1.x and 2.x opens it, which is what BI drivers embed
# (DuckDB 2.0's default, format 69, is refused by every 1.x reader).
SNAPSHOT_STORAGE_VERSION = "v1.0.0"
# Older versions are kept so that a reader that resolved `current` just before a switch can
# still open the files it was pointed at; beyond that they are deleted.
VERSIONS_KEPT = 3


@dataclass(frozen=True)
class PublishedBuild:
    build_id: str
    folder: Path
    snapshot: Path
    parquet: dict[str, Path]
    row_counts: dict[str, int]
    checksum: str


@contextmanager
def folder_lock(folder: Path, what: str) -> Iterator[None]:
    """An exclusive lock on a folder for one build or publish; a second one fails at once, clearly.

    The lock is flock(2) on the folder itself: nothing is left behind in the folder, and the
    kernel releases it when the process dies, so a killed build never leaves a stale lock.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise PublishError(f"Cannot use {folder} for the {what}: {_describe(error)}") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLockedError(
                f"Another {what} is running on {folder}; scheduled builds must not overlap."
            ) from None
        yield
    finally:
        os.close(descriptor)


def sql_string(value: str | Path) -> str:
    """A SQL string literal: paths go into ATTACH and COPY statements, which take no parameters."""
    return "'" + str(value).replace("'", "''") + "'"


def mart_checksum(connection: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Order-independent fingerprint of a table's rows, to tell one build's mart from another's."""
    row = connection.execute(
        f"select count(*), coalesce(bit_xor(hash(t)), 0), coalesce(sum(hash(t) % 1000003), 0) from {relation} t"
    ).fetchone()
    assert row is not None
    return checksum_of(*row)


def new_build_id() -> str:
    """Sortable and unique: UTC time to the microsecond, then the process id."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{os.getpid()}"


def publish(
    working_db: Path,
    publish_dir: Path,
    operators_dir: Path,
    *,
    build_id: str | None = None,
    schema: str = "main",
    proof: dict[str, object] | None = None,
) -> PublishedBuild:
    """Copy a verified build's marts out of the working database and switch readers and operators to them.

    The caller holds folder_lock(publish_dir) for the whole build (the pipeline takes it before dbt
    runs, so a second build into the same folder is refused before it starts, not after).
    Raises PublishError: the previous publication is intact and nothing is left behind.
    """
    build_id = build_id or new_build_id()
    try:
        _prepare_folder(operators_dir, private=True)
        _prepare_folder(publish_dir, private=False)
    except OSError as error:
        raise PublishError(f"Cannot prepare the publish folders: {_describe(error)}") from None
    operators = _stage_version(
        working_db,
        operators_dir,
        build_id=build_id,
        schema=schema,
        relations=OPERATOR_RELATIONS,
        snapshot_name=OPERATORS_SNAPSHOT_NAME,
        proof=proof,
    )
    try:
        readers = _stage_version(
            working_db,
            publish_dir,
            build_id=build_id,
            schema=schema,
            relations=READER_RELATIONS,
            snapshot_name=SNAPSHOT_NAME,
            proof=proof,
        )
    except BaseException:
        shutil.rmtree(operators.folder, ignore_errors=True)
        raise
    try:
        # Operators first: a reader-visible build always has its rejects and history published.
        _switch(
            operators_dir, operators.folder, (OPERATORS_SNAPSHOT_NAME, MANIFEST_NAME, *_parquets(OPERATOR_RELATIONS))
        )
        _switch(publish_dir, readers.folder, (SNAPSHOT_NAME, MANIFEST_NAME, *_parquets(READER_RELATIONS)))
    except OSError as error:
        raise PublishError(f"Cannot switch readers to build {build_id}: {_describe(error)}") from None
    for folder in (publish_dir, operators_dir):
        _prune_versions(folder)
    _remove_legacy_files(publish_dir)
    logger.info("published build %s: %s", build_id, readers.row_counts)
    return PublishedBuild(
        build_id=build_id,
        folder=readers.folder,
        snapshot=publish_dir / SNAPSHOT_NAME,
        parquet={name: publish_dir / f"{name}.parquet" for name in READER_RELATIONS},
        row_counts={**readers.row_counts, **operators.row_counts},
        checksum=readers.checksum or "",
    )


def current_version(folder: Path) -> Path | None:
    """The version folder readers are pointed at now, or None before the first publication."""
    link = folder / CURRENT_LINK
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def published_history(operators_dir: Path) -> Path | None:
    """The operators' snapshot of the current publication (it holds the tier history), if any."""
    version = current_version(operators_dir)
    snapshot = version / OPERATORS_SNAPSHOT_NAME if version else None
    return snapshot if snapshot and snapshot.is_file() else None


def _parquets(relations: Sequence[str]) -> tuple[str, ...]:
    return tuple(f"{name}.parquet" for name in relations)


def _prepare_folder(folder: Path, *, private: bool) -> None:
    (folder / VERSIONS_DIR).mkdir(parents=True, exist_ok=True)
    if private:
        folder.chmod(0o700)
    # A publish killed midway: its staged folder and links were never switched in.
    for leftover in (folder / VERSIONS_DIR).glob(".*.staging"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in folder.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)


@dataclass(frozen=True)
class _Staged:
    folder: Path
    row_counts: dict[str, int]
    checksum: str | None


def _stage_version(
    working_db: Path,
    folder: Path,
    *,
    build_id: str,
    schema: str,
    relations: Sequence[str],
    snapshot_name: str,
    proof: dict[str, object] | None,
) -> _Staged:
    """Write one complete version folder under a hidden name, then rename it to its build id."""
    staging = folder / VERSIONS_DIR / f".{build_id}.staging"
    final = folder / VERSIONS_DIR / build_id
    staging.mkdir()
    try:
        row_counts, checksum = _copy_relations(working_db, staging / snapshot_name, staging, schema, relations)
        manifest = {
            "build_id": build_id,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "snapshot": snapshot_name,
            "duckdb_storage_version": SNAPSHOT_STORAGE_VERSION,
            "parquet": {name: f"{name}.parquet" for name in relations},
            "row_counts": row_counts,
            **({"client_priority_checksum": checksum} if checksum else {}),
            **({"proof": proof} if proof is not None else {}),
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        for path in staging.iterdir():
            fsync_path(path)
        fsync_path(staging)
        staging.rename(final)
    except (OSError, duckdb.Error) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise PublishError(f"Cannot write the publication in {folder}: {_describe(error)}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _Staged(final, row_counts, checksum)


def _copy_relations(
    working_db: Path, snapshot: Path, folder: Path, schema: str, relations: Sequence[str]
) -> tuple[dict[str, int], str | None]:
    # Bounded like every connection of the project; an in-memory database would spill into the
    # current folder, so it spills beside the working file, as dbt's connection does.
    connection = duckdb.connect(config={"temp_directory": f"{working_db}.tmp", **duckdb_config()})
    try:
        connection.execute(f"attach {sql_string(working_db)} as build (read_only)")
        connection.execute(
            f"attach {sql_string(snapshot)} as snapshot (storage_version {sql_string(SNAPSHOT_STORAGE_VERSION)})"
        )
        row_counts: dict[str, int] = {}
        for name in relations:
            source = f"build.{schema}.{name}"
            connection.execute(f"create table snapshot.main.{name} as select * from {source}")
            connection.execute(f"copy {source} to {sql_string(folder / f'{name}.parquet')} (format parquet)")
            counted = connection.execute(f"select count(*) from {source}").fetchone()
            row_counts[name] = int(counted[0]) if counted else 0
        checksum = (
            mart_checksum(connection, "snapshot.main.client_priority") if "client_priority" in relations else None
        )
        connection.execute("checkpoint snapshot")
        connection.execute("detach snapshot")
        connection.execute("detach build")
    finally:
        connection.close()
    return row_counts, checksum


def _switch(folder: Path, version: Path, names: Sequence[str]) -> None:
    """Point `current` at `version` with one rename; make sure each stable name links through `current`."""
    link = folder / CURRENT_LINK
    staged_link = folder / f".{CURRENT_LINK}.{version.name}.tmp"
    with suppress(FileNotFoundError):
        staged_link.unlink()
    staged_link.symlink_to(Path(VERSIONS_DIR) / version.name)
    os.replace(staged_link, link)
    for name in names:
        stable = folder / name
        target = Path(CURRENT_LINK) / name
        if stable.is_symlink() and Path(os.readlink(stable)) == target:
            continue
        # First publication, or a folder from before versioned publishing: one rename per name.
        staged = folder / f".{name}.link.tmp"
        with suppress(FileNotFoundError):
            staged.unlink()
        staged.symlink_to(target)
        os.replace(staged, stable)
    fsync_path(folder)


# Files a publish folder held before versioned publishing that readers must no longer see.
LEGACY_READER_FILES = ("client_priority_rejects.parquet",)


def _remove_legacy_files(publish_dir: Path) -> None:
    for name in LEGACY_READER_FILES:
        legacy = publish_dir / name
        if legacy.is_file() and not legacy.is_symlink():
            legacy.unlink()


def _prune_versions(folder: Path) -> None:
    current = current_version(folder)
    versions = sorted(path for path in (folder / VERSIONS_DIR).iterdir() if not path.name.startswith("."))
    for old in versions[:-VERSIONS_KEPT]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return f"no space left on the device ({error.filename or ''})".replace(" ()", "")
    if isinstance(error, PermissionError):
        return f"permission denied: {error.filename}"
    return str(error)


class DuckDBPublisher:
    """Write, audit, publish on the embedded DuckDB: the build writes its working file, readers read published files.

    The working file is never read by readers, so it is the build's write location as it is.
    The tier history of the current publication is copied into it before dbt runs, so dbt's
    snapshot extends the published history, and a failed build's history is never carried on.
    """

    def __init__(self, working_db: Path, publish_dir: Path, operators_dir: Path, schema: str = "main") -> None:
        self.working_db = working_db
        self.publish_dir = publish_dir
        self.operators_dir = operators_dir
        self.schema = schema
        self.build_id = new_build_id()

    @contextmanager
    def lock(self) -> Iterator[None]:
        folders = {self.working_db.parent.resolve(): "build", self.publish_dir.resolve(): "publish"}
        with ExitStack() as stack:
            for folder, what in folders.items():
                stack.enter_context(folder_lock(folder, what))
            yield

    def prepare(self) -> dict[str, object]:
        history = published_history(self.operators_dir)
        try:
            with duckdb.connect(str(self.working_db), config=duckdb_config()) as connection:
                connection.execute(f"create schema if not exists {self.schema}")
                if history is None:
                    connection.execute(f"drop table if exists {self.schema}.client_tier_history")
                else:
                    connection.execute(f"attach {sql_string(history)} as published (read_only)")
                    connection.execute(
                        f"create or replace table {self.schema}.client_tier_history"
                        " as select * from published.main.client_tier_history"
                    )
        except (OSError, duckdb.Error) as error:
            raise PublishError(f"Cannot prepare the working database {self.working_db}: {error}") from None
        return {}

    def build_relations(self, source: str) -> Relations:
        return Relations.in_schema(source, self.schema)

    def open_build(self) -> Warehouse:
        return DuckDBWarehouse(self.working_db)

    def publish(self, proof: dict[str, object]) -> Publication:
        published = publish(
            self.working_db,
            self.publish_dir,
            self.operators_dir,
            build_id=self.build_id,
            schema=self.schema,
            proof=proof,
        )
        return Publication(
            build_id=published.build_id,
            location=str(published.snapshot),
            row_counts=published.row_counts,
            checksum=published.checksum,
            details={"parquet": str(self.publish_dir), "operators": str(self.operators_dir)},
        )

    def discard(self) -> None:
        """Nothing to remove: readers never read the working file, and the next build resets its history."""
