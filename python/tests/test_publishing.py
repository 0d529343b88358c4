"""DuckDB publishing: builds never break the published mart, readers are never refused, faults end cleanly."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from services.crm.build_history import HISTORY_FILES
from services.crm.publish import OPERATORS_SNAPSHOT_NAME, READER_RELATIONS, SNAPSHOT_NAME

from .engines import PROJECT_DIR
from .test_write_audit_publish import BUG_CLIENT, project_with_tier_bug

CLI = [sys.executable, "-m", "services.crm.cli"]


@dataclass
class Deployment:
    """A working database and its published folder, built by the real CLI in subprocesses."""

    root: Path

    @property
    def working_db(self) -> Path:
        return self.root / "work" / "crm_priority.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def operators(self) -> Path:
        return self.root / "operators"

    def build_command(self, *extra: str) -> list[str]:
        return [
            *CLI,
            "build",
            "--db",
            str(self.working_db),
            "--publish-dir",
            str(self.published),
            "--operators-dir",
            str(self.operators),
            *extra,
        ]

    def build(self, *extra: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.build_command(*extra), capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
        )

    def fingerprint(self, folder: Path | None = None) -> dict[str, str]:
        """sha256 of every file of the mart readers open by name: 'exactly as it was' means byte for byte.

        The build log's copy for readers (build_history) is not the mart: every build, failed or
        not, adds its record there (test_build_log.py).
        """
        return {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted((folder or self.published).iterdir())
            if path.is_file() and not path.name.startswith(".") and path.name not in HISTORY_FILES
        }

    def manifest(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads((self.published / "manifest.json").read_text(encoding="utf-8"))
        return loaded


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    deployed = Deployment(tmp_path_factory.mktemp("deployment"))
    completed = deployed.build()
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return deployed


def test_a_successful_build_publishes_a_snapshot_and_parquet(deployment: Deployment) -> None:
    assert set(deployment.fingerprint()) == {
        "crm_priority.duckdb",
        "manifest.json",
        *(f"{name}.parquet" for name in READER_RELATIONS),
    }
    manifest = deployment.manifest()
    assert manifest["row_counts"] == {
        "client_priority": 303,
        "aum_distribution": 18,  # 3 tiers x 6 bands, zero-filled
        "allocation_queue": 303,
        "client_eligibility": 303,
        "client_tier_changes": 0,  # one build: no change yet
    }
    assert manifest["proof"] == {
        "ok": True,
        "clients_compared": 303,
        "clients_matched": 303,
        "rejects_compared": 10,
        "mismatches": 0,
        "missing_in_mart": 0,
        "unexpected_in_mart": 0,
        "missing_in_rejects": 0,
        "unexpected_in_rejects": 0,
        "clients_unchecked": 0,
    }


def test_readers_get_the_dashboard_marts_and_nothing_with_raw_client_values(deployment: Deployment) -> None:
    with duckdb.connect(str(deployment.published / SNAPSHOT_NAME), read_only=True) as connection:
        tables = {row[0] for row in connection.execute("select table_name from information_schema.tables").fetchall()}
    assert tables == set(READER_RELATIONS)
    # build_history holds counts, hashes and short messages of each build, no client values.
    every_file = {
        path.name for path in deployment.published.rglob("*") if path.is_file() and path.name not in HISTORY_FILES
    }
    assert not any("reject" in name or "history" in name or "clients" in name for name in every_file), every_file
    # The rejects and the tier history are the operators', in a folder only its owner can enter.
    assert stat.S_IMODE(deployment.operators.stat().st_mode) == 0o700
    with duckdb.connect(str(deployment.operators / OPERATORS_SNAPSHOT_NAME), read_only=True) as connection:
        (rejects,) = connection.execute("select count(*) from client_priority_rejects").fetchone() or (0,)
    assert rejects == 10


@pytest.mark.parametrize(
    ("vars_json", "expected_exit", "expected_in_output"),
    [
        ('{"tier_1_min_aum": "1; drop table x"}', 2, "tier_1_min_aum"),
        ('{"max_reject_share": "0.01"}', 1, "reject_share_within_limit"),
        ("not json", 2, "--vars must be a JSON object"),
    ],
)
def test_a_failed_build_leaves_the_published_mart_exactly_as_it_was(
    deployment: Deployment, vars_json: str, expected_exit: int, expected_in_output: str
) -> None:
    before = deployment.fingerprint()
    completed = deployment.build("--vars", vars_json)
    assert completed.returncode == expected_exit
    assert expected_in_output in completed.stdout + completed.stderr
    assert deployment.fingerprint() == before


def test_a_contract_violation_leaves_the_published_mart_exactly_as_it_was(
    deployment: Deployment, tmp_path: Path
) -> None:
    broken_project = tmp_path / "project"
    broken_project.mkdir()
    for name in ("dbt_project.yml", "models", "macros", "seeds", "snapshots", "tests", "profiles"):
        source = PROJECT_DIR / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, broken_project / name)
    mart_sql = broken_project / "models" / "marts" / "client_priority.sql"
    mart_sql.write_text(
        mart_sql.read_text(encoding="utf-8").replace("cast(priority as integer)", "cast(priority as varchar)"),
        encoding="utf-8",
    )
    before = deployment.fingerprint()
    completed = deployment.build(env={"CRM_PRIORITY_PROJECT_DIR": str(broken_project)})
    assert completed.returncode == 1
    assert "contract" in (completed.stdout + completed.stderr).lower()
    assert "nothing was published" in completed.stderr
    assert deployment.fingerprint() == before


def test_a_build_killed_midway_leaves_the_published_mart_exactly_as_it_was(deployment: Deployment) -> None:
    before = deployment.fingerprint()
    process = subprocess.Popen(deployment.build_command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if "START sql table model" in line:  # dbt is writing the working database now
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert deployment.fingerprint() == before
    # The next scheduled build recovers: no stale lock, and it publishes.
    completed = deployment.build()
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert deployment.fingerprint() != before


def test_a_second_build_while_one_runs_is_refused_clearly(deployment: Deployment) -> None:
    process = subprocess.Popen(deployment.build_command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if "Running with dbt" in line:
            break
    try:
        completed = deployment.build()
        assert completed.returncode == 75
        assert "Another build is running" in completed.stderr
    finally:
        process.communicate(timeout=120)
    assert process.returncode == 0


def test_readers_are_never_refused_and_never_see_a_half_built_mart(deployment: Deployment, tmp_path: Path) -> None:
    stop_file, out = tmp_path / "stop", tmp_path / "reads.json"
    published = [deployment.manifest()]
    reader = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.published_reader",
            str(deployment.published / "crm_priority.duckdb"),
            str(stop_file),
            str(out),
        ],
        cwd=PROJECT_DIR / "python",
    )
    buggy = project_with_tier_bug(tmp_path / "buggy")
    with (buggy / "seeds" / "clients.csv").open("a", encoding="utf-8") as seed:
        seed.write(f"{BUG_CLIENT['client_id']},{BUG_CLIENT['client_name']},{BUG_CLIENT['aum']},false,,\n")
    # Good builds with failing ones between them: a proof failure (exit 3) and a failing data test (exit 1).
    attempts: list[tuple[dict[str, str], tuple[str, ...], int]] = [
        ({}, (), 0),
        ({"CRM_PRIORITY_PROJECT_DIR": str(buggy)}, (), 3),
        ({}, (), 0),
        ({}, ("--vars", '{"max_reject_share": "0.01"}'), 1),
        ({}, (), 0),
    ]
    try:
        for env, extra, expected in attempts:
            completed = deployment.build(*extra, env=env)
            assert completed.returncode == expected, completed.stdout + completed.stderr
            if expected == 0:
                published.append(deployment.manifest())
            time.sleep(0.3)
    finally:
        stop_file.touch()
        reader.wait(timeout=60)
    result = json.loads(out.read_text(encoding="utf-8"))
    builds = {(m["row_counts"]["client_priority"], m["client_priority_checksum"]) for m in published}  # type: ignore[index]
    seen = {(read["rows"], read["checksum"]) for read in result["reads"]}
    print(f"reader: {len(result['reads'])} queries, {len(result['errors'])} errors, {len(seen)} builds seen")
    assert result["errors"] == []
    assert seen <= builds, "a read saw a mart that no build published"
    assert len(seen) >= 2, "the reader must have read across at least one swap"
    assert len(result["reads"]) >= 100
