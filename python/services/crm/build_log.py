"""The build log: one hash-chained record per `crm-priority build`, appended and checked here.

A record is canonical JSON (sorted keys, one line). Its `hash` is SHA-256 of the canonical JSON
of every other field, `previous_hash` included, so each record seals the one before it. Without
a key the chain shows accidental or naive edits (a changed figure, a removed or reordered line);
anyone who can write the file can also recompute every hash after an edit. With
$CRM_PRIORITY_BUILD_LOG_KEY set, the hash is HMAC-SHA256 under that key: kept off the build
host (a secret store that injects it into the scheduled build only), it shows deliberate edits too.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LOG_KEY_ENV = "CRM_PRIORITY_BUILD_LOG_KEY"
OUTCOMES = ("published", "build_failed", "stale_source", "proof_failed", "publish_failed", "refused")
# A failing step's message is kept short: the log is a ledger, the build's own output has the rest.
MESSAGE_LIMIT = 300


class BuildLogError(RuntimeError):
    """The build log cannot be read as JSON lines; the message names the line."""


@dataclass(frozen=True)
class Finding:
    """The first thing wrong in a log: which record, and what."""

    seq: object
    build_id: object
    problem: str

    def describe(self) -> str:
        return f"record seq {self.seq} (build {self.build_id}): {self.problem}"


def log_key() -> bytes | None:
    """The HMAC key from $CRM_PRIORITY_BUILD_LOG_KEY, or None for plain SHA-256."""
    key = os.environ.get(LOG_KEY_ENV)
    return key.encode("utf-8") if key else None


def canonical(fields: Mapping[str, Any]) -> str:
    """Sorted keys, no spaces, one line: the same fields always give the same text."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(record: Mapping[str, Any], key: bytes | None) -> str:
    """SHA-256 (HMAC-SHA256 with a key) of the canonical JSON of every field but `hash`."""
    body = canonical({name: value for name, value in record.items() if name != "hash"}).encode("utf-8")
    if key:
        return hmac.new(key, body, hashlib.sha256).hexdigest()
    return hashlib.sha256(body).hexdigest()


def short_message(message: str | None) -> str | None:
    if not message:
        return None
    first = " ".join(message.split())
    return first if len(first) <= MESSAGE_LIMIT else first[: MESSAGE_LIMIT - 1] + "…"


def project_commit(project_dir: Path) -> dict[str, object]:
    """`git rev-parse HEAD` of the project and whether the work tree differs from it; nulls outside git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(project_dir), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(project_dir), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": head, "dirty": bool(status.strip())}


@contextmanager
def _locked_for_append(path: Path) -> Iterator[int]:
    """The log opened O_APPEND (created owner-only) under an exclusive flock, released on close."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the operators' folder: owner only
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # blocking: builds append one after another
        yield descriptor
    finally:
        os.close(descriptor)


def append_record(
    path: Path,
    fields: Mapping[str, Any],
    key: bytes | None,
    *,
    then: Callable[[list[dict[str, Any]]], None] | None = None,
) -> dict[str, Any]:
    """Append one record sealed onto the last one (seq, previous_hash, hash); fsync'd before it returns.

    `then(records)`, if given, runs still under the lock with every record of the log, so the
    readers' copy of the log (build_history) is rewritten by one build at a time.
    """
    with _locked_for_append(path) as descriptor:
        records = _read_lenient(path)
        previous = records[-1] if records else None
        record = {
            **fields,
            "seq": int(previous.get("seq") or len(records)) + 1 if previous else 1,
            "previous_hash": previous.get("hash") if previous else None,
        }
        record["hash"] = record_hash(record, key)
        os.write(descriptor, (canonical(record) + "\n").encode("utf-8"))
        os.fsync(descriptor)
        if then is not None:
            then([*records, record])
    return record


def _read_lenient(path: Path) -> list[dict[str, Any]]:
    """The records for sealing the next one; a line that is not JSON is kept as a hash of its text."""
    records: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            records.append({"seq": len(records) + 1, "hash": hashlib.sha256(line.encode("utf-8")).hexdigest()})
    return records


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record of the log in file order; BuildLogError names a line that is not a JSON object."""
    records: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise BuildLogError(f"line {number} is not JSON ({error})") from None
        if not isinstance(record, dict):
            raise BuildLogError(f"line {number} is not a JSON object")
        records.append(record)
    return records


def check_chain(records: Sequence[Mapping[str, Any]], key: bytes | None) -> Finding | None:
    """The first record whose hash, seq or previous_hash is wrong, or None when the chain is intact.

    An edited record fails its own hash; a removed or moved one breaks the seq and previous_hash
    of the record that now follows it.
    """
    previous: Mapping[str, Any] | None = None
    for record in records:
        seq, build_id = record.get("seq"), record.get("build_id")
        if record.get("hash") != record_hash(record, key):
            return Finding(seq, build_id, "its hash does not match its contents (edited, or sealed with another key)")
        expected_seq = int(previous["seq"]) + 1 if previous else 1
        if seq != expected_seq:
            return Finding(seq, build_id, f"seq {seq} where {expected_seq} was expected (a record removed or moved)")
        expected_previous = previous.get("hash") if previous else None
        if record.get("previous_hash") != expected_previous:
            return Finding(seq, build_id, "previous_hash is not the hash of the record before it")
        previous = record
    return None


def check_history(
    records: Sequence[Mapping[str, Any]], history: Sequence[tuple[int, str]], relation: str
) -> Finding | None:
    """The first record where the readers' build_history (seq, hash in seq order) and the log differ."""
    for position in range(max(len(records), len(history))):
        if position >= len(records):
            seq, _ = history[position]
            return Finding(seq, None, f"{relation} holds this record and the log does not (removed from the log)")
        record = records[position]
        if position >= len(history):
            return Finding(record.get("seq"), record.get("build_id"), f"{relation} does not hold this record")
        if (record.get("seq"), record.get("hash")) != history[position]:
            return Finding(
                record.get("seq"),
                record.get("build_id"),
                f"{relation} holds seq {history[position][0]} with another hash here",
            )
    return None


def last_published(records: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The record of the build readers should see now: the last one published."""
    return next((record for record in reversed(records) if record.get("outcome") == "published"), None)


@dataclass(frozen=True)
class ReadersView:
    """What readers see now: the build id where the engine shows one, and its client_priority checksums."""

    build_id: str | None
    checksums: Mapping[str, str]  # what was read ("manifest", "recomputed") -> checksum


def check_readers(record: Mapping[str, Any] | None, view: ReadersView) -> Finding | None:
    """Whether readers see the build the last published record names, with its checksum."""
    if record is None:
        if view.build_id is None and not view.checksums:
            return None
        return Finding(None, view.build_id, "readers see a mart and the log records no published build")
    seq, build_id, recorded = record.get("seq"), record.get("build_id"), record.get("published_checksum")
    if view.build_id is not None and view.build_id != build_id:
        return Finding(seq, build_id, f"readers see build {view.build_id}, not this last published one")
    for what, checksum in view.checksums.items():
        if checksum != recorded:
            return Finding(
                seq, build_id, f"the {what} checksum of readers' client_priority is {checksum}, recorded {recorded}"
            )
    return None
