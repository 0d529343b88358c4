"""Time the mart and its verification against the natural alternatives, side by side on one synthetic export.

Run from the project folder: ``.venv/bin/python -m bench.run --rows 1000000`` (``make bench N=...``).
Each contender runs in a subprocess of its own, so the peak RSS reported is that contender's alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = PROJECT_DIR / "bench" / "results"
DEFAULT_ROWS = 1_000_000
STARTUP_ROWS = 10  # dbt's fixed cost: the same command on a table this small
# datacompy holds both frames and its join in memory: PandasCompare peaked at 16.8 GB for two
# 10M-row frames here (PolarsCompare 13.3 GB), so a run above 10M would swap the machine.
DATACOMPY_BYTES_PER_ROW = 1_700
DATACOMPY_MAX_ROWS = 10_000_000
MART = "main.client_priority"
FLOOR = "main.client_priority_floor"
DBT_VARS = json.dumps({"crm_source_schema": "main_raw"})
# The mart and the views it reads; the seed is not selected, so the generated source stays.
DBT_RUN_MART = ["run", "--select", "+client_priority"]
COMPARED = (
    "client_id, client_name, aum, investments, is_sfo, investor_type, tier, tier_label, priority, tier_reason,"
    " qp_category, qp_amount_tested, qp_threshold, is_qualified_purchaser, qp_basis, policy_version"
)


@dataclass
class Result:
    """One contender's figures; `skipped` says why when it did not run."""

    contender: str
    wall_s: float = 0.0
    rows: int = 0
    peak_rss_mb: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.wall_s if self.wall_s > 0 else 0.0


def run_contender(name: str, command: list[str], env: dict[str, str] | None = None) -> Result:
    """Run one contender to completion; wall time from spawn to exit, peak RSS of that process alone."""
    with tempfile.TemporaryFile() as stdout_file, tempfile.TemporaryFile() as stderr_file:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env={**os.environ, **(env or {})}, stdout=stdout_file, stderr=stderr_file
        )
        # wait4 gives the rusage of this child alone (RUSAGE_CHILDREN would mix every contender so far).
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout_file.seek(0)
        stderr_file.seek(0)
        stdout, stderr = stdout_file.read().decode(errors="replace"), stderr_file.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"contender {name} failed ({process.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
    detail: dict[str, Any] = {}
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            detail = json.loads(line)
            break
    return Result(name, wall_s=wall, rows=int(detail.get("rows", 0)), peak_rss_mb=usage.ru_maxrss / 1024, detail=detail)


def run_spill_contender(name: str, command: list[str], env: dict[str, str], spill_dir: Path) -> Result:
    """A contender under a DuckDB memory limit, with the peak size of its spill folder sampled as it runs."""
    peak_bytes = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_bytes
        while not done.wait(0.1):
            sizes = (entry.stat().st_size for entry in spill_dir.rglob("*") if entry.is_file())
            with contextlib.suppress(OSError):
                peak_bytes = max(peak_bytes, sum(sizes))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = run_contender(name, command, env)
    finally:
        done.set()
        sampler.join()
    result.detail.update(
        memory_limit=env["CRM_PRIORITY_DUCKDB_MEMORY_LIMIT"],
        spill_peak_mb=round(peak_bytes / 2**20, 1),
        spill_left_behind=spill_dir.exists() and any(spill_dir.iterdir()),
    )
    return result


def child(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.run", "--child", *args]


def dbt_command(target_path: Path) -> list[str]:
    dbt = str(Path(sys.executable).parent / "dbt")
    return [
        dbt,
        *DBT_RUN_MART,
        "--vars",
        DBT_VARS,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR / "profiles"),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
    ]


def run_benchmark(
    rows: int, workdir: Path, datacompy_max_rows: int = DATACOMPY_MAX_ROWS, spill_memory_limit: str | None = None
) -> dict[str, Any]:
    big, tiny, target = workdir / "bench.duckdb", workdir / "startup.duckdb", workdir / "target"
    results: dict[str, Result] = {}
    results["generate"] = run_contender("generate", child("generate", str(big), str(rows)))
    run_contender("generate (startup table)", child("generate", str(tiny), str(STARTUP_ROWS)))

    # dbt sees one database path whatever it builds: partial parsing starts over when the profile
    # changes, and a changed path would make the big run pay a full parse the tiny one did not.
    warehouse = workdir / "warehouse.duckdb"
    dbt_env = {"CRM_PRIORITY_DB": str(warehouse)}
    tiny.rename(warehouse)
    # One untimed parse fills dbt's partial-parse state, as on any machine that has built once.
    parse = [*dbt_command(target)]
    parse[1 : 1 + len(DBT_RUN_MART)] = ["parse"]
    run_contender("dbt parse", parse, dbt_env)
    results["dbt_startup"] = run_contender("dbt_startup", dbt_command(target), dbt_env)
    results["dbt_startup"].rows = STARTUP_ROWS
    warehouse.rename(tiny)
    big.rename(warehouse)
    big = warehouse
    results["dbt"] = run_contender("dbt", dbt_command(target), dbt_env)
    if spill_memory_limit:
        # The same build under a memory limit well below its peak: it must complete by spilling.
        spill_dir = workdir / "spill"
        spill_env = {
            **dbt_env,
            "CRM_PRIORITY_DUCKDB_MEMORY_LIMIT": spill_memory_limit,
            "CRM_PRIORITY_DUCKDB_TEMP_DIR": str(spill_dir),
        }
        results["dbt_spill"] = run_spill_contender("dbt_spill", dbt_command(target), spill_env, spill_dir)
        results["dbt_spill"].rows = rows
    results["ctas"] = run_contender("ctas", child("ctas", str(big)))
    results["dbt"].rows = results["ctas"].rows
    # Not timed: the floor must build the mart, or it is not a floor.
    results["ctas"].detail.update(run_contender("floor check", child("floor_check", str(big))).detail)

    # The rejects table is what the verification accounts rejected rows against; not timed.
    rejects = [*dbt_command(target)]
    rejects[1 : 1 + len(DBT_RUN_MART)] = ["run", "--select", "client_priority_rejects"]
    run_contender("dbt rejects", rejects, dbt_env)

    results["verify"] = run_contender("verify", child("verify", str(big)))
    for name in ("datacompy_pandas", "datacompy_polars"):
        if rows > datacompy_max_rows:
            needed = rows * DATACOMPY_BYTES_PER_ROW / 2**30
            results[name] = Result(name, skipped=f"skipped: would need ~{needed:.0f} GB for {rows:,} rows")
        else:
            results[name] = run_contender(name, child(name, str(big)))
    return summarize(rows, results)


def summarize(rows: int, results: dict[str, Result]) -> dict[str, Any]:
    dbt, startup, ctas = results["dbt"], results["dbt_startup"], results["ctas"]
    verify = results["verify"]
    ratios: dict[str, float | None] = {
        "dbt_over_ctas": dbt.wall_s / ctas.wall_s,
        "dbt_minus_startup_over_ctas": (dbt.wall_s - startup.wall_s) / ctas.wall_s,
    }
    for name in ("datacompy_pandas", "datacompy_polars"):
        other = results[name]
        ratios[f"verify_over_{name}"] = None if other.skipped else verify.wall_s / other.wall_s
    return {
        "rows": rows,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "contenders": {name: {**asdict(result), "rows_per_s": result.rows_per_s} for name, result in results.items()},
        "dbt_minus_startup_s": dbt.wall_s - startup.wall_s,
        "ratios": ratios,
    }


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
    }


def print_table(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"client_priority at {summary['rows']:,} clients")
    for column in ("contender", "wall s", "rows/s", "peak RSS MB", "note"):
        table.add_column(column, justify="left" if column in ("contender", "note") else "right")
    notes = {
        "generate": "synthetic export, DuckDB SQL (not a contender)",
        "dbt_startup": f"dbt run on {STARTUP_ROWS} rows: parse + compile + hooks",
        "dbt": "dbt run --select +client_priority",
        "dbt_spill": "the same under --spill-memory-limit, spilling to a temp folder",
        "ctas": "hand-written CREATE TABLE AS (the floor)",
        "verify": "batch row-by-row check vs the Python reference",
        "datacompy_pandas": "PandasCompare, mart vs reference frame",
        "datacompy_polars": "PolarsCompare, mart vs reference frame",
    }
    for name, result in summary["contenders"].items():
        if result["skipped"]:
            table.add_row(name, "—", "—", "—", result["skipped"])
            continue
        table.add_row(
            name,
            f"{result['wall_s']:.2f}",
            f"{result['rows_per_s']:,.0f}",
            f"{result['peak_rss_mb']:,.0f}",
            notes.get(name, ""),
        )
    console = Console()
    console.print(table)
    console.print(f"dbt minus start-up: {summary['dbt_minus_startup_s']:.2f} s")
    spill = summary["contenders"].get("dbt_spill")
    if spill:
        detail = spill["detail"]
        console.print(
            f"dbt_spill: memory_limit {detail['memory_limit']}, spill folder peak {detail['spill_peak_mb']:,.0f} MB,"
            f" left behind: {detail['spill_left_behind']}"
        )
    for name, value in summary["ratios"].items():
        console.print(f"{name}: {'—' if value is None else f'{value:.2f}'}")


# ---------- the contenders that run in a child process (`--child NAME ...`)


def child_generate(db: str, rows: str) -> dict[str, Any]:
    import duckdb

    from bench.generate import generate_clients

    with duckdb.connect(db) as connection:
        connection.execute("set enable_progress_bar = false")
        generate_clients(connection, int(rows))
    return {"rows": int(rows)}


def child_ctas(db: str) -> dict[str, Any]:
    import duckdb

    from bench.floor import floor_sql
    from bench.generate import SOURCE_TABLE
    from services.crm.policy import load_policy

    with duckdb.connect(db) as connection:
        connection.execute("set enable_progress_bar = false")
        started = time.perf_counter()
        connection.execute(floor_sql(load_policy(), SOURCE_TABLE, FLOOR))
        elapsed = time.perf_counter() - started
        source_rows = connection.sql(f"select count(*) from {SOURCE_TABLE}").fetchall()[0][0]
    return {"rows": source_rows, "sql_s": elapsed}


def child_floor_check(db: str) -> dict[str, Any]:
    import duckdb

    # Each side as a multiset fingerprint (row count, sum of every row's hash) in constant memory:
    # an EXCEPT ALL both ways held about 20 GB at 100M rows here.
    with duckdb.connect(db, read_only=True) as connection:
        connection.execute("set enable_progress_bar = false")
        mart, floor = (
            connection.sql(f"select count(*), sum(hash({COMPARED})::hugeint) from {table}").fetchall()[0]
            for table in (MART, FLOOR)
        )
    return {"mart_equals_floor": mart == floor}


def child_verify(db: str) -> dict[str, Any]:
    from services.crm.batch_verify import verify_duckdb
    from services.crm.client_priority import PriorityScorer
    from services.crm.warehouse import DuckDBWarehouse, Relations

    with DuckDBWarehouse(db) as warehouse:
        started = time.perf_counter()
        report = verify_duckdb(warehouse.connection, Relations.for_schemas(), PriorityScorer())
        elapsed = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"the mart does not match the reference:\n{report.describe()}")
    return {"rows": report.rows_compared, "rejects": report.rejects_compared, "work_s": elapsed, "ok": report.ok}


def reference_frame_sql(table: str) -> str:
    """Both frames carry money as exact integer cents: datacompy would otherwise compare floats."""
    money = ("aum", "investments", "qp_amount_tested", "qp_threshold")
    columns = [
        f"cast({name} * 100 as bigint) as {name}_cents" if name in money else name for name in COMPARED.split(", ")
    ]
    return f"select {', '.join(column.strip() for column in columns)} from {table}"


def child_datacompy(db: str, engine: str) -> dict[str, Any]:
    import datacompy
    import duckdb

    # The reference frame is the floor's table: DuckDB's own computation of the mart.
    with duckdb.connect(db, read_only=True) as connection:
        connection.execute("set enable_progress_bar = false")
        started = time.perf_counter()
        if engine == "pandas":
            mart, reference = (
                connection.sql(reference_frame_sql(MART)).df(),
                connection.sql(reference_frame_sql(FLOOR)).df(),
            )
        else:
            mart, reference = (
                connection.sql(reference_frame_sql(MART)).pl(),
                connection.sql(reference_frame_sql(FLOOR)).pl(),
            )
    loaded = time.perf_counter() - started
    comparer = datacompy.PandasCompare if engine == "pandas" else datacompy.PolarsCompare
    comparison = comparer(mart, reference, join_columns="client_id")
    matches = bool(comparison.matches())
    return {
        "rows": len(mart),
        "load_s": loaded,
        "compare_s": time.perf_counter() - started - loaded,
        "matches": matches,
    }


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "generate": child_generate,
    "ctas": child_ctas,
    "floor_check": child_floor_check,
    "verify": child_verify,
    "datacompy_pandas": lambda db: child_datacompy(db, "pandas"),
    "datacompy_polars": lambda db: child_datacompy(db, "polars"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("N", DEFAULT_ROWS)), help="clients to generate")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for the JSON results")
    parser.add_argument("--workdir", type=Path, help="where the DuckDB files go [default: a temporary folder]")
    parser.add_argument("--datacompy-max-rows", type=int, default=DATACOMPY_MAX_ROWS)
    parser.add_argument(
        "--spill-memory-limit",
        help="also run the dbt build under this DuckDB memory_limit (e.g. 1GB), spilling to a temp folder",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, *rest = args.child
        print(json.dumps(CHILDREN[name](*rest)))
        return 0

    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    with tempfile.TemporaryDirectory(prefix="crm-bench-", dir=args.workdir) as folder:
        summary = run_benchmark(args.rows, Path(folder), args.datacompy_max_rows, args.spill_memory_limit)
    print_table(summary)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"{stamp}-{args.rows}.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"Results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
