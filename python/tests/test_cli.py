"""The crm-priority command line, run as a user runs it, against real built marts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from .conftest import MartFactory
from .engines import PROJECT_DIR, DuckDBMart, relation


def crm_priority(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.crm.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


@pytest.mark.parametrize("command", [[], ["build"], ["audit"], ["score"], ["verify"], ["report"]])
def test_every_command_has_help(command: list[str]) -> None:
    completed = crm_priority(*command, "--help")
    assert completed.returncode == 0
    assert "Usage" in completed.stdout


def test_score_prints_a_readable_profile() -> None:
    completed = crm_priority("score", "--aum", "120000000", "--sfo")
    assert completed.returncode == 0, completed.stderr
    assert "TIER_1_SFO" in completed.stdout
    assert "$120,000,000.00" in completed.stdout


def test_score_json_is_exact_and_parseable() -> None:
    completed = crm_priority(
        "score", "--aum", "24999999.995", "--investor-type", "entity", "--investments", "1000", "--json"
    )
    profile = json.loads(completed.stdout)
    assert (profile["aum"], profile["tier"], profile["is_qualified_purchaser"]) == ("25000000.00", "TIER_2_UHNW", True)


def test_score_refuses_a_bad_argument_by_name() -> None:
    completed = crm_priority("score", "--aum", "-5")
    assert completed.returncode == 2
    assert "aum" in completed.stderr


@pytest.fixture
def verified_copy(sample_mart: DuckDBMart, tmp_path: Path) -> Path:
    """A copy of the built sample mart that a test may tamper with."""
    copy = tmp_path / "crm_priority.duckdb"
    shutil.copy(sample_mart.db_path, copy)
    return copy


def test_verify_passes_on_a_built_mart(verified_copy: Path) -> None:
    completed = crm_priority("verify", "--target", "dev", env={"CRM_PRIORITY_DB": str(verified_copy)})
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "compared 303 clients: 303 matched, 0 column mismatches" in completed.stdout


def test_verify_fails_on_a_tampered_mart_and_shows_the_row(verified_copy: Path) -> None:
    with duckdb.connect(str(verified_copy)) as connection:
        connection.execute("update main.client_priority set tier = 'TIER_1_SFO' where client_id = 'B005'")
    completed = crm_priority(
        "verify", "--profiles-dir", str(PROJECT_DIR / "profiles"), env={"CRM_PRIORITY_DB": str(verified_copy)}
    )
    assert completed.returncode == 1
    assert "MISMATCH" in completed.stdout
    assert "tier: 1 mismatched" in completed.stdout
    assert "B005" in completed.stdout
    assert "'TIER_1_SFO'" in completed.stdout
    assert "'TIER_3_RETAIL'" in completed.stdout


def test_verify_names_an_unknown_target() -> None:
    completed = crm_priority("verify", "--target", "nowhere")
    assert completed.returncode == 2
    assert "nowhere" in completed.stderr


def test_report_renders_a_png_and_an_offline_html_page(sample_mart: DuckDBMart, tmp_path: Path) -> None:
    completed = crm_priority("report", "--db", str(sample_mart.db_path), "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    png = (tmp_path / "aum_distribution.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 20_000
    page = (tmp_path / "aum_distribution.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "http://" not in page
    assert "https://" not in page
    assert "Tier 1 — Single Family Office / $50M+" in page
    for tier_label in ("Tier 1", "Tier 2", "Tier 3"):
        assert tier_label in completed.stdout


@pytest.mark.postgres
def test_verify_reads_a_postgres_target_and_catches_a_tampered_row(marts: MartFactory) -> None:
    mart = marts.sample("postgres")
    env = {"CRM_PRIORITY_PG_SCHEMA": mart.schema}
    completed = crm_priority("verify", "--target", "postgres", env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "compared 303 clients: 303 matched, 0 column mismatches" in completed.stdout
    table = relation(mart, "client_priority")
    mart.query(f"update {table} set tier = 'TIER_1_SFO' where client_id = 'B005' returning client_id")
    try:
        completed = crm_priority("verify", "--target", "postgres", env=env)
    finally:
        mart.query(f"update {table} set tier = 'TIER_3_RETAIL' where client_id = 'B005' returning client_id")
    assert completed.returncode == 1
    assert "tier: 1 mismatched" in completed.stdout
    assert "B005" in completed.stdout
