"""Fixtures that build real marts with dbt (DuckDB files, PostgreSQL and Spark schemas) for the tests to read."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import Phase

from services.crm.dbt_invocation import DbtProject, environment
from services.crm.warehouse import resolve_target, spark_session

from .engines import PROFILES_DIR, PROJECT_DIR, DuckDBMart, Mart, PostgresMart, SparkMart

SOURCE_RELATION = "main_raw.clients"
# `dbt run` of just the scoring models: the source, staging, validation, the mart and its rejects.
# The consumer marts and the tier history need a snapshot and are built by `dbt build`.
RUN_SCORING = ["run", "--select", "+client_priority", "+client_priority_rejects"]
# CI runs each property at the example counts its test module names (sized for a CI run of about
# 20 minutes on 2 cores); CRM_PRIORITY_TEST_SCALE=4 make test runs four times as many of each.
EXAMPLE_SCALE = float(os.environ.get("CRM_PRIORITY_TEST_SCALE", "1"))


def examples(count: int) -> int:
    """A property's example count, scaled by CRM_PRIORITY_TEST_SCALE."""
    return max(1, round(count * EXAMPLE_SCALE))


# Every example of a dbt-backed property costs a dbt run, and shrinking a failure costs hundreds:
# the failure report already lists every mismatching row, so these tests do not shrink.
DBT_BACKED_PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
# The engines the shared tests run on. Session-scoped, so pytest runs each engine's tests together
# and starts PostgreSQL and the Spark JVM once. `-m "not spark"` / `-m "not postgres"` skip one.
ENGINES = [
    pytest.param("duckdb"),
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=pytest.mark.spark),
]


@pytest.fixture(scope="session")
def dbt_target_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dbt target folder for the session, so partial parsing carries over between builds."""
    return tmp_path_factory.mktemp("dbt_target")


def new_mart(folder: Path, target_path: Path) -> DuckDBMart:
    dbt = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROFILES_DIR, target_path=target_path)
    return DuckDBMart(dbt=dbt, db_path=folder / "crm_priority.duckdb")


@pytest.fixture(scope="session")
def sample_mart(marts: MartFactory) -> DuckDBMart:
    """The sample seed built and tested by `dbt build` on DuckDB, as `make build` does."""
    mart = marts.sample("duckdb")
    assert isinstance(mart, DuckDBMart)
    return mart


@pytest.fixture
def empty_mart(tmp_path: Path, dbt_target_path: Path) -> DuckDBMart:
    """A fresh DuckDB file for a test to load its own source into."""
    return new_mart(tmp_path, dbt_target_path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[None]:
    """A throwaway PostgreSQL server for the session, started and stopped by the project's own script.

    Its data folder is not under pytest's temporary folder: that is private to the
    test user, and the server runs as the unprivileged `postgres` user.
    """
    settings = {
        "CRM_PRIORITY_PG_DATA": tempfile.mkdtemp(prefix="crm_priority_pg_"),
        "CRM_PRIORITY_PG_HOST": "127.0.0.1",
        "CRM_PRIORITY_PG_PORT": str(free_port()),
        "CRM_PRIORITY_PG_USER": "postgres",
        "CRM_PRIORITY_PG_DATABASE": "crm_priority_test",
    }
    script = str(PROJECT_DIR / "scripts" / "postgres_server.sh")
    with environment(settings):
        subprocess.run(["bash", script, "start"], check=True, capture_output=True, text=True)
        try:
            yield
        finally:
            subprocess.run(["bash", script, "stop"], check=False, capture_output=True)


@pytest.fixture(scope="session")
def spark_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder the session's Spark tables and Derby metastore live in; the session stops at the end."""
    folder = tmp_path_factory.mktemp("spark")
    with environment({"CRM_PRIORITY_SPARK_DIR": str(folder), "SPARK_LOCAL_IP": "127.0.0.1"}):
        try:
            yield folder
        finally:
            spark_session(resolve_target(PROFILES_DIR, "spark")).stop()


class MartFactory:
    """Makes marts on any engine: each in a DuckDB file or a schema of its own, sharing one dbt target folder
    per engine so partial parsing carries over between builds."""

    def __init__(
        self, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, duckdb_target_path: Path
    ) -> None:
        self.request = request
        self.tmp_path_factory = tmp_path_factory
        self.target_paths: dict[str, Path] = {"duckdb": duckdb_target_path}
        self.samples: dict[str, Mart] = {}
        self.numbers = itertools.count(1)

    def dbt(self, engine: str) -> DbtProject:
        if engine not in self.target_paths:
            self.target_paths[engine] = self.tmp_path_factory.mktemp(f"dbt_target_{engine}")
        target = None if engine == "duckdb" else engine
        return DbtProject(
            project_dir=PROJECT_DIR, profiles_dir=PROFILES_DIR, target=target, target_path=self.target_paths[engine]
        )

    def new(self, engine: str, name: str | None = None) -> Mart:
        name = name or f"t{next(self.numbers)}"
        if engine == "duckdb":
            folder = self.tmp_path_factory.mktemp(f"duckdb_{name}")
            return DuckDBMart(dbt=self.dbt(engine), db_path=folder / "crm_priority.duckdb")
        if engine == "postgres":
            self.request.getfixturevalue("postgres_server")
            return PostgresMart(dbt=self.dbt(engine), schema=name)
        if engine == "spark":
            self.request.getfixturevalue("spark_warehouse")
            return SparkMart(dbt=self.dbt(engine), schema=name)
        raise ValueError(f"unknown engine {engine!r}")

    def sample(self, engine: str) -> Mart:
        """The sample seed built and tested by `dbt build`, once per engine."""
        if engine not in self.samples:
            mart = self.new(engine, "sample")
            mart.run(["build"])
            self.samples[engine] = mart
        return self.samples[engine]


@pytest.fixture(scope="session")
def marts(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, dbt_target_path: Path
) -> MartFactory:
    return MartFactory(request, tmp_path_factory, dbt_target_path)


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine_sample_mart(engine: str, marts: MartFactory) -> Mart:
    """The sample built on each engine in turn."""
    return marts.sample(engine)


@pytest.fixture
def engine_empty_mart(engine: str, marts: MartFactory) -> Mart:
    """A fresh place on each engine for a test to load its own source into."""
    return marts.new(engine)


@pytest.fixture(scope="session")
def engine_generated_mart(engine: str, marts: MartFactory) -> Mart:
    """One place per engine that hypothesis examples load their own source into, one after another."""
    return marts.new(engine, "generated")


# Wall time per engine (setup, call and teardown of its tests), printed after the run: CI's budget
# is shared by three engines, and the README quotes these figures.
_engine_seconds: dict[str, float] = {}
_engine_tests: dict[str, set[str]] = {}


def _engine_of(keywords: Mapping[str, object]) -> str:
    return "spark" if "spark" in keywords else "postgres" if "postgres" in keywords else "duckdb"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    engine = _engine_of(report.keywords)
    _engine_seconds[engine] = _engine_seconds.get(engine, 0.0) + report.duration
    _engine_tests.setdefault(engine, set()).add(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _engine_seconds:
        return
    terminalreporter.section("time per engine")
    for engine in ("duckdb", "postgres", "spark"):
        if engine in _engine_seconds:
            terminalreporter.write_line(
                f"{engine:<9} {_engine_seconds[engine]:7.1f} s  {len(_engine_tests[engine]):4d} tests"
            )
