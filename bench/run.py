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
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
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
# The what-if the bench times: both tier thresholds move, so many clients change (Tier 1 to 2, Tier 3 to 2).
WHATIF_PROPOSAL = {"tier_1_min_aum": "75000000", "tier_2_min_aum": "3000000"}
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


CLI = [sys.executable, "-m", "services.crm.cli"]
FEED_SCHEMA = "bench_feed"
FEED_VARS = json.dumps({"crm_source_schema": FEED_SCHEMA})


def publish_options(root: Path) -> list[str]:
    return ["--publish-dir", str(root / "published"), "--operators-dir", str(root / "operators")]


def dbt_command(target_path: Path, engine: str = "duckdb") -> list[str]:
    dbt = str(Path(sys.executable).parent / "dbt")
    return [
        dbt,
        *DBT_RUN_MART,
        *([] if engine == "duckdb" else ["--target", engine]),
        "--vars",
        # On a warehouse the benchmark builds straight into the profile's schema, on purpose: it
        # times dbt itself (a hand-run build must name the schema it writes, guard_readers_schema).
        DBT_VARS if engine == "duckdb" else json.dumps({**json.loads(DBT_VARS), "crm_build_schema": "crm"}),
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

    # Untimed too: numba's cache of the check's loops, which `make setup` fills on any machine.
    run_contender("compile kernels", child("compile_kernels"))
    results["verify"] = run_contender("verify", child("verify", str(big)))
    results["whatif"] = run_contender("whatif", child("whatif", str(big)))
    # Write, audit, publish against its baseline: the same `dbt build` and publish without the proof.
    # Both read a copy of the export outside the seed's schema (dbt build reloads the sample seed
    # into main_raw) and start with no tier history, so they do the same dbt work.
    run_contender("feed copy", child("feed_copy", str(big)), dbt_env)
    publish_root = workdir / "publish"
    results["build_unproven"] = run_contender(
        "build_unproven", child("build_unproven", str(big), str(publish_root / "unproven")), dbt_env
    )
    results["build_verified"] = run_contender(
        "build_verified",
        [*CLI, "build", "--db", str(big), "--vars", FEED_VARS, *publish_options(publish_root / "verified")],
        dbt_env,
    )
    for name in ("build_unproven", "build_verified"):
        results[name].rows = results["ctas"].rows
    for name in ("datacompy_pandas", "datacompy_polars"):
        if rows > datacompy_max_rows:
            needed = rows * DATACOMPY_BYTES_PER_ROW / 2**30
            results[name] = Result(name, skipped=f"skipped: would need ~{needed:.0f} GB for {rows:,} rows")
        else:
            results[name] = run_contender(name, child(name, str(big)))
    return summarize(rows, results)


def run_engine_benchmark(engine: str, rows: int, workdir: Path) -> dict[str, Any]:
    """PostgreSQL or Spark: the same generated clients loaded into the engine, then its dbt build and the check."""
    generated, target = workdir / "bench.duckdb", workdir / "target"
    results: dict[str, Result] = {}
    results["generate"] = run_contender("generate", child("generate", str(generated), str(rows)))
    with engine_environment(engine, workdir) as env:
        results["load"] = run_contender("load", child(f"load_{engine}", str(generated)), env)
        results["dbt"] = run_contender("dbt", dbt_command(target, engine), env)
        rejects = [*dbt_command(target, engine)]
        rejects[1 : 1 + len(DBT_RUN_MART)] = ["run", "--select", "client_priority_rejects"]
        run_contender("dbt rejects", rejects, env)
        run_contender("compile kernels", child("compile_kernels"))
        results["verify"] = run_contender("verify", child("verify_engine", engine), env)
    results["dbt"].rows = rows
    verify = results["verify"]
    return {
        "rows": rows,
        "engine": engine,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "contenders": {name: {**asdict(result), "rows_per_s": result.rows_per_s} for name, result in results.items()},
        "dbt_minus_startup_s": None,
        "ratios": {"verify_over_dbt": verify.wall_s / results["dbt"].wall_s},
    }


@contextlib.contextmanager
def engine_environment(engine: str, workdir: Path) -> Iterator[dict[str, str]]:
    """The env vars that point dbt and the check at a throwaway PostgreSQL server or Spark folder."""
    if engine == "spark":
        yield {"CRM_PRIORITY_SPARK_DIR": str(workdir / "spark"), "SPARK_LOCAL_IP": "127.0.0.1"}
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Not under workdir: the server runs as the unprivileged postgres user.
    env = {
        "CRM_PRIORITY_PG_DATA": tempfile.mkdtemp(prefix="crm_bench_pg_"),
        "CRM_PRIORITY_PG_HOST": "127.0.0.1",
        "CRM_PRIORITY_PG_PORT": str(port),
        "CRM_PRIORITY_PG_USER": "postgres",
        "CRM_PRIORITY_PG_DATABASE": "crm_priority_bench",
    }
    script = [str(PROJECT_DIR / "scripts" / "postgres_server.sh")]
    subprocess.run(["bash", *script, "start"], env={**os.environ, **env}, check=True, capture_output=True)
    try:
        yield env
    finally:
        subprocess.run(["bash", *script, "stop"], env={**os.environ, **env}, check=False, capture_output=True)


def run_whatif_benchmark(rows: int, workdir: Path) -> dict[str, Any]:
    """Only what `crm-priority whatif` needs: the synthetic export, the mart built by dbt (untimed), the what-if."""
    big, target = workdir / "warehouse.duckdb", workdir / "target"
    results = {"generate": run_contender("generate", child("generate", str(big), str(rows)))}
    results["dbt"] = run_contender("dbt", dbt_command(target), {"CRM_PRIORITY_DB": str(big)})
    results["dbt"].rows = rows
    results["whatif"] = run_contender("whatif", child("whatif", str(big)))
    return {
        "rows": rows,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "contenders": {name: {**asdict(result), "rows_per_s": result.rows_per_s} for name, result in results.items()},
        "ratios": {},
    }


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
    ratios["build_verified_over_build_unproven"] = results["build_verified"].wall_s / results["build_unproven"].wall_s
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
        "build_unproven": "dbt build + publish, no proof (the baseline)",
        "build_verified": "crm-priority build: write, audit, publish",
        "whatif": f"crm-priority whatif {' '.join(f'--set {k}={v}' for k, v in WHATIF_PROPOSAL.items())}",
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
    if summary.get("dbt_minus_startup_s") is not None:
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


def child_compile_kernels() -> dict[str, Any]:
    from services.crm.arrow_check import compile_kernels

    compile_kernels()
    return {}


def child_verify(db: str) -> dict[str, Any]:
    from services.crm.client_priority import PriorityScorer
    from services.crm.duckdb_reader import verify_duckdb
    from services.crm.warehouse import DuckDBWarehouse, Relations

    with DuckDBWarehouse(db) as warehouse:
        started = time.perf_counter()
        report = verify_duckdb(warehouse.connection, Relations.for_schemas(), PriorityScorer())
        elapsed = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"the mart does not match the reference:\n{report.describe()}")
    return {"rows": report.rows_compared, "rejects": report.rejects_compared, "work_s": elapsed, "ok": report.ok}


def child_load_postgres(db: str) -> dict[str, Any]:
    """The generated source copied into PostgreSQL as text (CSV through COPY)."""
    import duckdb
    import psycopg2

    from bench.generate import SOURCE_SCHEMA, SOURCE_TABLE
    from services.crm.warehouse import resolve_target

    csv_path = Path(db).with_suffix(".csv")
    with duckdb.connect(db, read_only=True) as connection:
        connection.execute("set enable_progress_bar = false")
        columns = [str(row[0]) for row in connection.execute(f"describe {SOURCE_TABLE}").fetchall()]
        connection.execute(f"copy {SOURCE_TABLE} to '{csv_path}' (header, force_quote *)")
    target = resolve_target(PROJECT_DIR / "profiles", "postgres")
    pg = psycopg2.connect(host=target["host"], port=target["port"], user=target["user"], dbname=target["dbname"])
    with pg, pg.cursor() as cursor, open(csv_path, encoding="utf-8") as csv_file:
        cursor.execute(f"create schema if not exists {SOURCE_SCHEMA}")
        cursor.execute(f"create table {SOURCE_TABLE} ({', '.join(f'{column} text' for column in columns)})")
        # Quoted empty text stays '', an unquoted empty field is null: as DuckDB wrote them.
        cursor.copy_expert(f"copy {SOURCE_TABLE} from stdin with (format csv, header true)", csv_file)
        cursor.execute(f"select count(*) from {SOURCE_TABLE}")
        (count,) = cursor.fetchone() or (0,)
    pg.close()
    csv_path.unlink()
    return {"rows": int(count)}


def child_load_spark(db: str) -> dict[str, Any]:
    """The generated source copied into the Spark warehouse as a Parquet table of text columns."""
    import duckdb

    from bench.generate import SOURCE_SCHEMA, SOURCE_TABLE
    from services.crm.warehouse import resolve_target, spark_session

    parquet_path = Path(db).with_suffix(".parquet")
    with duckdb.connect(db, read_only=True) as connection:
        connection.execute("set enable_progress_bar = false")
        connection.execute(f"copy {SOURCE_TABLE} to '{parquet_path}' (format parquet)")
    session = spark_session(resolve_target(PROJECT_DIR / "profiles", "spark"))
    session.sql(f"create database if not exists {SOURCE_SCHEMA}")
    session.read.parquet(str(parquet_path)).write.format("parquet").mode("overwrite").saveAsTable(SOURCE_TABLE)
    count = session.table(SOURCE_TABLE).count()
    session.stop()
    return {"rows": int(count)}


def child_verify_engine(engine: str) -> dict[str, Any]:
    """The check as `crm-priority verify --target ENGINE` runs it; peak RSS of this process and of its children."""
    import resource

    from services.crm.client_priority import PriorityScorer
    from services.crm.verify import verify_warehouse
    from services.crm.warehouse import Relations, open_warehouse, resolve_target

    target = resolve_target(PROJECT_DIR / "profiles", engine)
    relations = Relations.for_schemas(str(target["schema"]), source_schema="main_raw")
    warehouse = open_warehouse(target, PROJECT_DIR)
    started = time.perf_counter()
    report = verify_warehouse(warehouse, relations, PriorityScorer())
    elapsed = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"the mart does not match the reference:\n{report.describe()}")
    figures: dict[str, Any] = {
        "rows": report.rows_compared,
        "rejects": report.rejects_compared,
        "rows_vouched": report.rows_vouched,
        "work_s": elapsed,
        "ok": report.ok,
        "self_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if engine == "spark":
        # The JVM and its Python workers are this process's children: the largest of them, while it runs.
        figures["jvm_and_workers_rss_mb"] = _descendants_rss_mb()
    return figures


def _descendants_rss_mb() -> dict[str, float]:
    """Peak RSS (VmHWM) of each live descendant of this process by command name: the JVM, pyspark's workers."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    peaks: dict[int, float] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text(encoding="utf-8").splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields.get("PPid", "0").strip())
        names[pid] = fields.get("Name", "?").strip()
        peaks[pid] = int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
    sizes: dict[str, float] = {}
    for pid, parent in parents.items():
        ancestor = parent
        while ancestor > 1 and ancestor != os.getpid():
            ancestor = parents.get(ancestor, 0)
        if ancestor == os.getpid():
            sizes[names[pid]] = max(sizes.get(names[pid], 0.0), peaks[pid])
    return sizes


def child_feed_copy(db: str) -> dict[str, Any]:
    import duckdb

    with duckdb.connect(db) as connection:
        connection.execute(f"create schema if not exists {FEED_SCHEMA}")
        connection.execute(f"create or replace table {FEED_SCHEMA}.clients as select * from main_raw.clients")
    # Both builds then start from the same partial-parse state, in the folder the CLI uses.
    build_project().invoke(["parse"], json.loads(FEED_VARS))
    return {}


def build_project() -> Any:
    from services.crm.cli import artifacts_dir
    from services.crm.dbt_invocation import DbtProject
    from services.crm.warehouse import resolve_target

    # The folder `crm-priority build` uses for this working file, so both builds share one parse.
    target = resolve_target(PROJECT_DIR / "profiles")
    return DbtProject(PROJECT_DIR, PROJECT_DIR / "profiles", target_path=artifacts_dir(PROJECT_DIR, "build", target))


def child_build_unproven(db: str, publish_root: str) -> dict[str, Any]:
    from services.crm.publish import publish

    build_project().invoke(["build"], json.loads(FEED_VARS))
    root = Path(publish_root)
    published = publish(Path(db), root / "published", root / "operators")
    return {"rows": published.row_counts["client_priority"]}


def child_whatif(db: str) -> dict[str, Any]:
    from services.crm.warehouse import DuckDBWarehouse
    from services.crm.whatif import proposed_policy, what_if

    with DuckDBWarehouse(db) as warehouse:
        started = time.perf_counter()
        result = what_if(warehouse, MART, proposed_policy(WHATIF_PROPOSAL))
        elapsed = time.perf_counter() - started
    return {"rows": result.client_count, "changed": result.changed_count, "work_s": elapsed}


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
    "compile_kernels": child_compile_kernels,
    "verify_engine": child_verify_engine,
    "load_postgres": child_load_postgres,
    "load_spark": child_load_spark,
    "whatif": child_whatif,
    "feed_copy": child_feed_copy,
    "build_unproven": child_build_unproven,
    "datacompy_pandas": lambda db: child_datacompy(db, "pandas"),
    "datacompy_polars": lambda db: child_datacompy(db, "polars"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("N", DEFAULT_ROWS)), help="clients to generate")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for the JSON results")
    parser.add_argument("--workdir", type=Path, help="where the DuckDB files go [default: a temporary folder]")
    parser.add_argument("--datacompy-max-rows", type=int, default=DATACOMPY_MAX_ROWS)
    parser.add_argument("--engine", choices=("duckdb", "postgres", "spark"), default="duckdb")
    parser.add_argument(
        "--whatif-only", action="store_true", help="time only `crm-priority whatif` (after an untimed dbt build)"
    )
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
        if args.whatif_only:
            summary = run_whatif_benchmark(args.rows, Path(folder))
        elif args.engine == "duckdb":
            summary = run_benchmark(args.rows, Path(folder), args.datacompy_max_rows, args.spill_memory_limit)
        else:
            summary = run_engine_benchmark(args.engine, args.rows, Path(folder))
    print_table(summary)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "" if args.engine == "duckdb" else f"-{args.engine}"
    path = args.out / f"{stamp}-{args.rows}{suffix}.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"Results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
