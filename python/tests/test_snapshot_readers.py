"""The published snapshot opens read-only in every DuckDB a BI tool embeds today, not only the one that wrote it.

The project writes with DuckDB 2; BI drivers embed 1.x (Superset's duckdb-engine requires
duckdb<2 and installs 1.5.6). Each reader version is installed on its own (pip --target, cached
per version) and run in a subprocess, so it is the only DuckDB that process imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

CLI = [sys.executable, "-m", "services.crm.cli"]
# 1.0.0 is the oldest 1.x release (the format it reads, storage version 64, is what v1.0.0 writes);
# 1.5.6 is the newest 1.x, what `pip install "apache-superset[duckdb]"` brings.
READER_VERSIONS = ("1.0.0", "1.5.6")
MARTS = ("client_priority", "aum_distribution", "allocation_queue", "client_eligibility", "client_tier_changes")
READ_MARTS = """
import json, sys
import duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps({
    "version": duckdb.__version__,
    "marts": {name: [str(row) for row in connection.execute(f"select * from {name} order by all").fetchall()]
              for name in sys.argv[2:]},
}))
"""


def duckdb_reader(version: str) -> Path:
    """A folder holding only DuckDB `version`, installed once per machine."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crm_priority" / f"duckdb-{version}"
    if not (cache / "duckdb").is_dir():
        staging = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(staging),
                f"duckdb=={version}",
            ],
            check=True,
            timeout=600,
        )
        staging.rename(cache)
    return cache


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readers")
    completed = subprocess.run(
        [*CLI, "build", "--db", str(root / "work" / "crm_priority.duckdb"), "--publish-dir", str(root / "published")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return root / "published"


def test_the_manifest_names_the_snapshots_storage_version(published: Path) -> None:
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["duckdb_storage_version"] == "v1.0.0"


@pytest.mark.parametrize("version", READER_VERSIONS)
def test_a_duckdb_1x_reader_opens_the_snapshot_and_reads_the_same_marts(published: Path, version: str) -> None:
    snapshot = published / "crm_priority.duckdb"
    completed = subprocess.run(
        [sys.executable, "-c", READ_MARTS, str(snapshot), *MARTS],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(duckdb_reader(version))},
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    read = json.loads(completed.stdout)
    assert read["version"] == version
    with duckdb.connect(str(snapshot), read_only=True) as connection:
        for name in MARTS:
            rows = [str(row) for row in connection.execute(f"select * from {name} order by all").fetchall()]
            assert read["marts"][name] == rows, name
