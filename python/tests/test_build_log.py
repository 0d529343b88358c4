"""The build log: every build appends one sealed record, and `crm-priority audit` finds any edit behind its back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from services.crm.build_log import LOG_KEY_ENV, append_record, canonical, check_chain, read_records, record_hash
from services.crm.publish import CURRENT_LINK, SNAPSHOT_NAME, VERSIONS_DIR

from .conftest import MartFactory
from .test_publishing import CLI, Deployment

LOG_NAME = "build_log.jsonl"


def audit(deployment: Deployment, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *CLI,
            "audit",
            "--db",
            str(deployment.working_db),
            "--publish-dir",
            str(deployment.published),
            "--operators-dir",
            str(deployment.operators),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300", **(env or {})},
        check=False,
    )


def log_lines(deployment: Deployment) -> list[str]:
    return (deployment.operators / LOG_NAME).read_text(encoding="utf-8").splitlines()


def records(deployment: Deployment) -> list[dict[str, Any]]:
    return read_records(deployment.operators / LOG_NAME)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """Three builds by the real CLI: published, failed (a data test), published."""
    deployed = Deployment(tmp_path_factory.mktemp("logged"))
    for vars_json, expected in ((None, 0), ('{"max_reject_share": "0.01"}', 1), (None, 0)):
        completed = deployed.build(*(("--vars", vars_json) if vars_json else ()))
        assert completed.returncode == expected, completed.stdout + completed.stderr
    return deployed


@pytest.fixture
def copy_of(logged: Deployment, tmp_path: Path) -> Deployment:
    """The deployment copied, symlinks and all, for a test to tamper with."""
    shutil.copytree(logged.root, tmp_path / "copy", symlinks=True)
    return Deployment(tmp_path / "copy")


def test_every_build_appends_one_record_sealed_onto_the_one_before(logged: Deployment) -> None:
    log = records(logged)
    assert [record["seq"] for record in log] == [1, 2, 3]
    assert [record["outcome"] for record in log] == ["published", "build_failed", "published"]
    assert log[0]["previous_hash"] is None
    assert [record["previous_hash"] for record in log[1:]] == [record["hash"] for record in log[:-1]]
    assert all(record["hash"] == record_hash(record, None) for record in log)
    assert log_lines(logged) == [canonical(record) for record in log]  # canonical JSON, one line each
    first, failed, last = log
    assert first["target"] == {"name": "dev", "engine": "duckdb", "schema": "main"}
    assert first["rows"] == {"source": 313, "mart": 303, "rejects": 10}
    assert first["source"] == "main_raw.clients"
    assert first["proof"]["ok"] is True
    assert first["thresholds"]["tier_1_min_aum"] == "50000000.00"
    assert first["policy_version"].startswith("policy-")
    assert len(first["commit"]) == 40
    assert isinstance(first["dirty"], bool)
    assert first["started_at"] < first["ended_at"] < failed["started_at"]
    assert failed["thresholds"]["max_reject_share"] == "0.01"
    assert failed["published_checksum"] is None
    assert failed["message"]
    assert last["build_id"] == logged.manifest()["build_id"]
    assert last["published_checksum"] == logged.manifest()["client_priority_checksum"]


def test_readers_can_query_the_log_as_build_history(logged: Deployment) -> None:
    expected = [(record["seq"], record["hash"], record["outcome"]) for record in records(logged)]
    query = "select seq, hash, outcome from {} order by seq"
    with duckdb.connect(str(logged.published / "build_history.duckdb"), read_only=True) as connection:
        assert connection.execute(query.format("build_history")).fetchall() == expected
    parquet = f"read_parquet('{logged.published / 'build_history.parquet'}')"
    assert duckdb.connect().execute(query.format(parquet)).fetchall() == expected


def test_the_audit_passes_when_nothing_was_touched(logged: Deployment) -> None:
    completed = audit(logged)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    build_id = records(logged)[-1]["build_id"]
    assert f"3 records, chain intact, readers see build {build_id} as recorded" in completed.stdout


def edit_a_middle_record(deployment: Deployment) -> None:
    lines = log_lines(deployment)
    record = json.loads(lines[1])
    record["rows"]["source"] = 1
    lines[1] = canonical(record)
    write_log(deployment, lines)


def remove_a_middle_record(deployment: Deployment) -> None:
    lines = log_lines(deployment)
    write_log(deployment, [lines[0], lines[2]])


def remove_the_last_record(deployment: Deployment) -> None:
    write_log(deployment, log_lines(deployment)[:-1])


def swap_two_records(deployment: Deployment) -> None:
    lines = log_lines(deployment)
    write_log(deployment, [lines[0], lines[2], lines[1]])


def republish_an_older_build_by_hand(deployment: Deployment) -> None:
    older = sorted((deployment.published / VERSIONS_DIR).iterdir())[0]
    link = deployment.published / CURRENT_LINK
    link.unlink()
    link.symlink_to(Path(VERSIONS_DIR) / older.name)


def rewrite_the_published_snapshot(deployment: Deployment) -> None:
    with duckdb.connect(str(deployment.published / SNAPSHOT_NAME)) as connection:
        connection.execute(
            "update client_priority set tier_label = tier_label || '!'"
            " where client_id = (select min(client_id) from client_priority)"
        )


def write_log(deployment: Deployment, lines: list[str]) -> None:
    (deployment.operators / LOG_NAME).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("tamper", "first_bad", "problem"),
    [
        (edit_a_middle_record, 2, "hash does not match its contents"),
        (remove_a_middle_record, 3, "seq 3 where 2 was expected"),
        (remove_the_last_record, 3, "holds this record and the log does not"),
        (swap_two_records, 3, "seq 3 where 2 was expected"),
        (republish_an_older_build_by_hand, 3, "readers see build"),
        (rewrite_the_published_snapshot, 3, "recomputed checksum"),
    ],
)
def test_the_audit_names_the_first_bad_record(
    copy_of: Deployment, tamper: Callable[[Deployment], None], first_bad: int, problem: str
) -> None:
    assert audit(copy_of).returncode == 0
    tamper(copy_of)
    completed = audit(copy_of)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert f"record seq {first_bad} " in completed.stderr
    assert problem in completed.stderr


def test_the_audit_without_a_log_is_a_usage_error(tmp_path: Path) -> None:
    completed = audit(Deployment(tmp_path))
    assert completed.returncode == 2
    assert "No build log" in completed.stderr


def re_sealed_after_an_edit(path: Path) -> list[dict[str, Any]]:
    """Record 2's outcome changed, then it and every record after it re-hashed the way the log hashes without a key."""
    log = read_records(path)
    log[1]["outcome"] = "build_failed"
    for position in range(1, len(log)):
        log[position]["previous_hash"] = log[position - 1]["hash"]
        log[position]["hash"] = record_hash(log[position], None)
    return log


@pytest.mark.parametrize("key", [None, b"kept-in-the-secret-store"])
def test_only_a_key_kept_off_the_host_finds_an_edit_re_sealed_by_hand(tmp_path: Path, key: bytes | None) -> None:
    path = tmp_path / LOG_NAME
    for number in range(3):
        append_record(path, {"build_id": f"b{number}", "outcome": "published"}, key)
    assert check_chain(read_records(path), key) is None
    finding = check_chain(re_sealed_after_an_edit(path), key)
    if key is None:
        assert finding is None  # without a key the chain shows accidental or naive edits only
    else:
        assert finding is not None
        assert finding.seq == 2


def test_the_key_comes_from_the_environment(logged: Deployment) -> None:
    completed = audit(logged, env={LOG_KEY_ENV: "another-key"})
    assert completed.returncode == 1
    assert "record seq 1 " in completed.stderr


@pytest.mark.postgres
def test_a_postgres_build_logs_a_record_readers_can_query_and_the_audit_checks(
    marts: MartFactory, tmp_path: Path
) -> None:
    mart = marts.new("postgres", "logged")
    env = {**os.environ, **mart.env(), "COLUMNS": "300"}
    operators = tmp_path / "operators"
    common = ["--target", "postgres", "--operators-dir", str(operators)]
    built = subprocess.run([*CLI, "build", *common], capture_output=True, text=True, env=env, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    log = read_records(operators / "build_log-postgres.jsonl")
    assert [(record["seq"], record["outcome"], record["target"]["engine"]) for record in log] == [
        (1, "published", "postgres")
    ]
    assert (log[0]["rows"]["mart"], log[0]["published_checksum"]) == mart.published()

    connection = mart.connect()  # type: ignore[attr-defined]
    try:
        with connection.cursor() as cursor:
            cursor.execute("set role bi_reader")
            cursor.execute(f"select seq, hash, outcome, mart_rows from {mart.schema}_audit.build_history")
            assert cursor.fetchall() == [(1, log[0]["hash"], "published", 303)]
    finally:
        connection.close()

    audited = subprocess.run([*CLI, "audit", *common], capture_output=True, text=True, env=env, check=False)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    mart.query(
        f"update {mart.schema}.client_priority set tier_label = tier_label || '!'"
        f" where client_id = (select min(client_id) from {mart.schema}.client_priority) returning client_id"
    )
    audited = subprocess.run([*CLI, "audit", *common], capture_output=True, text=True, env=env, check=False)
    assert audited.returncode == 1, audited.stdout + audited.stderr
    assert "record seq 1 " in audited.stderr
    assert "recomputed checksum" in audited.stderr
