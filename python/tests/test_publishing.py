"""Builds never break the published mart, and readers are never refused while builds run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from .engines import PROJECT_DIR

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

    def build_command(self, *extra: str) -> list[str]:
        return [*CLI, "build", "--db", str(self.working_db), "--publish-dir", str(self.published), *extra]

    def build(self, *extra: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.build_command(*extra), capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
        )

    def fingerprint(self) -> dict[str, str]:
        """sha256 of every published file: 'exactly as it was' means byte for byte."""
        return {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(self.published.iterdir())
            if not path.name.startswith(".")
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
    assert {
        "crm_priority.duckdb",
        "client_priority.parquet",
        "client_priority_rejects.parquet",
        "manifest.json",
    } <= set(deployment.fingerprint())
    row_counts = deployment.manifest()["row_counts"]
    assert row_counts == {
        "client_priority": 303,
        "client_priority_rejects": 10,
        "aum_distribution": 18,  # 3 tiers x 6 bands, zero-filled
        "allocation_queue": 303,
        "client_eligibility": 303,
        "client_tier_changes": 0,  # one build: no change yet
    }


@pytest.mark.parametrize(
    ("vars_json", "expected_in_output"),
    [
        ('{"tier_1_min_aum": "1; drop table x"}', "tier_1_min_aum"),
        ('{"max_reject_share": "0.01"}', "reject_share_within_limit"),
    ],
)
def test_a_failed_build_leaves_the_published_mart_exactly_as_it_was(
    deployment: Deployment, vars_json: str, expected_in_output: str
) -> None:
    before = deployment.fingerprint()
    completed = deployment.build("--vars", vars_json)
    assert completed.returncode == 1
    assert expected_in_output in completed.stdout + completed.stderr
    assert "published mart is unchanged" in completed.stderr
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
        assert completed.returncode == 1
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
    try:
        for _ in range(3):
            completed = deployment.build()
            assert completed.returncode == 0, completed.stdout + completed.stderr
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
