"""The benchmark runs end to end at a tiny size: every contender reports positive figures (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from services.crm.policy import find_project_dir

PROJECT_DIR = find_project_dir()
CONTENDERS = (
    "dbt_startup",
    "dbt",
    "ctas",
    "verify",
    "whatif",
    "build_unproven",
    "build_verified",
    "datacompy_pandas",
    "datacompy_polars",
)


def run_bench(folder: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`python -m bench.run` as `make bench` runs it, files in `folder`; its output and its JSON summary."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", *args, "--out", str(folder), "--workdir", str(folder)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "COLUMNS": "200"},
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (results,) = folder.glob("*.json")
    return completed, json.loads(results.read_text(encoding="utf-8"))


def test_the_benchmark_runs_every_contender_at_a_tiny_size(tmp_path: Path) -> None:
    completed, summary = run_bench(tmp_path, "--rows", "2000")
    assert summary["rows"] == 2000
    for name in CONTENDERS:
        figures = summary["contenders"][name]
        assert figures["skipped"] is None, name
        assert figures["wall_s"] > 0, name
        assert figures["rows"] > 0, name
        assert figures["rows_per_s"] > 0, name
        assert figures["peak_rss_mb"] > 0, name
    assert summary["contenders"]["ctas"]["detail"]["mart_equals_floor"] is True
    assert summary["contenders"]["verify"]["detail"]["ok"] is True
    # At a tiny size dbt minus its start-up is noise around zero, so only the plain ratios must be positive.
    ratios = summary["ratios"]
    assert ratios["dbt_over_ctas"] > 0
    assert ratios["build_verified_over_build_unproven"] > 0
    assert ratios["verify_over_datacompy_pandas"] > 0
    assert ratios["verify_over_datacompy_polars"] > 0
    assert "verify" in completed.stdout


def test_the_benchmark_skips_datacompy_above_its_limit(tmp_path: Path) -> None:
    _, summary = run_bench(tmp_path, "--rows", "500", "--datacompy-max-rows", "100", "--spill-memory-limit", "64MB")
    assert summary["contenders"]["datacompy_pandas"]["skipped"].startswith("skipped: would need ~")
    assert summary["ratios"]["verify_over_datacompy_pandas"] is None
    # The bounded build ran too, under the limit asked for, and left no spill files behind.
    bounded = summary["contenders"]["dbt_spill"]
    assert (bounded["rows"], bounded["detail"]["memory_limit"]) == (500, "64MB")
    assert bounded["detail"]["spill_left_behind"] is False


def test_the_benchmark_can_time_only_the_whatif(tmp_path: Path) -> None:
    _, summary = run_bench(tmp_path, "--rows", "2000", "--whatif-only")
    figures = summary["contenders"]["whatif"]
    assert figures["rows"] > 0
    assert figures["detail"]["changed"] > 0
    assert figures["peak_rss_mb"] > 0
