"""Read access to a built warehouse (DuckDB, PostgreSQL, Spark) for the row-by-row verification and the CLI."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import duckdb
import jinja2
import yaml

from services.crm.duckdb_settings import duckdb_config


@dataclass(frozen=True)
class Relations:
    """Where the source, the mart and its rejects live in one warehouse."""

    source: str
    mart: str
    rejects: str

    @classmethod
    def in_schema(cls, source: str, schema: str) -> Relations:
        """The mart and its rejects as built in `schema`, checked against `source`."""
        return cls(source=source, mart=f"{schema}.client_priority", rejects=f"{schema}.client_priority_rejects")

    @classmethod
    def for_schemas(
        cls, schema: str = "main", source_schema: str | None = None, source_table: str = "clients"
    ) -> Relations:
        """The project's defaults: marts in `schema`, the source in `<schema>_raw` (the seed's schema)."""
        return cls(
            source=f"{source_schema or schema + '_raw'}.{source_table}",
            mart=f"{schema}.client_priority",
            rejects=f"{schema}.client_priority_rejects",
        )


class Warehouse(Protocol):
    # The engine's spelling of unbounded text, for casting the source as the staging model does.
    text_type: str

    def rows(self, sql: str) -> Iterator[dict[str, object]]:
        """Each row of a query as a dict keyed by lower-case column name."""
        ...

    def columns(self, relation: str) -> list[str]:
        """Lower-case column names of a relation."""
        ...


class ClosingWarehouse:
    """Closes its connection at the end of a `with` block."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class DuckDBWarehouse(ClosingWarehouse):
    """A DuckDB file opened read-only, so it never takes the writer's lock from a build."""

    text_type = "varchar"

    def __init__(self, path: Path | str, *, read_only: bool = True) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"No DuckDB database at {self.path}: build the mart first (make build).")
        self.connection = duckdb.connect(str(self.path), read_only=read_only, config=duckdb_config())

    def rows(self, sql: str) -> Iterator[dict[str, object]]:
        cursor = self.connection.cursor()
        result = cursor.execute(sql)
        names = [column[0].lower() for column in result.description or []]
        while batch := result.fetchmany(10_000):
            for values in batch:
                yield dict(zip(names, values, strict=True))

    def columns(self, relation: str) -> list[str]:
        return [str(row[0]).lower() for row in self.connection.execute(f"describe {relation}").fetchall()]

    def close(self) -> None:
        self.connection.close()


class PostgresWarehouse(ClosingWarehouse):
    """A PostgreSQL database, read through server-side cursors so a large mart streams."""

    text_type = "text"

    def __init__(self, target: Mapping[str, Any]) -> None:

        # The batch check opens its own (Arrow) connection from the same settings.
        self.target = dict(target)
        self.connection = postgres_connection(target)
        # Reads only: a read-only session cannot change the warehouse it verifies.
        self.connection.set_session(readonly=True, autocommit=False)

    def rows(self, sql: str) -> Iterator[dict[str, object]]:
        with self.connection.cursor(name=f"crm_priority_{next(_cursor_numbers)}") as cursor:
            cursor.itersize = 10_000
            cursor.execute(sql)
            names: list[str] | None = None
            for values in cursor:
                if names is None:
                    names = [column[0].lower() for column in cursor.description or ()]
                yield dict(zip(names, values, strict=True))

    def columns(self, relation: str) -> list[str]:
        schema, _, table = relation.rpartition(".")
        with self.connection.cursor() as cursor:
            cursor.execute(
                "select column_name from information_schema.columns"
                " where table_schema = %s and table_name = %s order by ordinal_position",
                (schema or "public", table),
            )
            return [str(row[0]).lower() for row in cursor.fetchall()]

    def close(self) -> None:
        self.connection.close()


class SparkWarehouse(ClosingWarehouse):
    """The Spark session dbt-spark's `session` method uses: same settings, so the same metastore and tables.

    A Spark session lives as long as its JVM; inside a process that already ran dbt this
    reuses that session, and `close` leaves it running for the next caller.
    """

    text_type = "string"

    def __init__(self, target: Mapping[str, Any]) -> None:
        self.target = dict(target)
        self.session = spark_session(target)

    def rows(self, sql: str) -> Iterator[dict[str, object]]:
        for row in self.session.sql(sql).toLocalIterator():
            yield {name.lower(): value for name, value in row.asDict().items()}

    def columns(self, relation: str) -> list[str]:
        return [name.lower() for name in self.session.table(relation).columns]

    def close(self) -> None:
        pass


def postgres_connection(target: Mapping[str, Any]) -> Any:
    """A psycopg2 connection with a postgres target's settings (as profiles.yml renders them)."""
    import psycopg2  # imported late: only PostgreSQL targets need it

    return psycopg2.connect(
        host=str(target["host"]),
        port=int(target.get("port", 5432)),
        user=str(target["user"]),
        password=str(target.get("password") or ""),
        dbname=str(target.get("dbname") or target.get("database")),
        connect_timeout=10,
    )


def spark_session(target: Mapping[str, Any]) -> Any:
    """The Spark session for a `method: session` target, built exactly as dbt-spark builds it."""
    from pyspark.sql import SparkSession  # imported late: only Spark targets need it

    if target.get("method") != "session":
        raise ProfileError(f"only Spark targets with method: session can be read here, not {target.get('method')!r}")
    builder = SparkSession.builder.enableHiveSupport()
    parameters = {str(key): str(value) for key, value in (target.get("server_side_parameters") or {}).items()}
    # dbt-spark forces ANSI mode off; match it so both read the tables the same way.
    parameters["spark.sql.ansi.enabled"] = "false"
    # Stage progress bars would print into the CLI's output.
    parameters.setdefault("spark.ui.showConsoleProgress", "false")
    # The Python workers (the check's mapInArrow) need this interpreter's packages: NumPy, pyarrow.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in parameters.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


_cursor_numbers = itertools.count()


class ProfileError(ValueError):
    """The dbt profile or target cannot be read; the message says which."""


def resolve_target(profiles_dir: Path, target: str | None = None, profile: str = "crm_priority") -> dict[str, Any]:
    """One output of profiles.yml with its env_var() calls rendered, as dbt would see it.

    Like dbt, the YAML is parsed first and each string rendered after, so a value (a path with
    quotes, say) never changes the YAML's structure.
    """
    profiles_file = profiles_dir / "profiles.yml"
    if not profiles_file.is_file():
        raise ProfileError(f"No profiles.yml in {profiles_dir}")
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    environment.globals["env_var"] = _env_var
    profiles: dict[str, Any] = yaml.safe_load(profiles_file.read_text(encoding="utf-8")) or {}
    if profile not in profiles:
        raise ProfileError(f"profiles.yml has no profile {profile!r}")
    chosen = target or _rendered(environment, profiles[profile].get("target"))
    outputs: dict[str, Any] = profiles[profile].get("outputs") or {}
    if chosen not in outputs:
        raise ProfileError(f"profile {profile!r} has no target {chosen!r}; targets: {sorted(outputs)}")
    return {"name": chosen, **_rendered(environment, outputs[chosen])}


def _rendered(environment: jinja2.Environment, value: Any) -> Any:
    """Every string in a parsed YAML value rendered as Jinja; `| int` results come back as numbers."""
    if isinstance(value, dict):
        return {key: _rendered(environment, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rendered(environment, item) for item in value]
    if isinstance(value, str) and "{{" in value:
        text = environment.from_string(value).render()
        return int(text) if text.isdigit() and "| int" in value else text
    return value


def _env_var(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ProfileError(f"env var {name} is required by profiles.yml and not set")
    return value


def open_warehouse(target: Mapping[str, Any], project_dir: Path) -> Warehouse:
    """A read-only connection to the warehouse a dbt target points at."""
    if target["type"] == "duckdb":
        path = Path(str(target["path"]))
        return DuckDBWarehouse(path if path.is_absolute() else project_dir / path)
    if target["type"] == "postgres":
        return PostgresWarehouse(target)
    if target["type"] == "spark":
        return SparkWarehouse(target)
    raise ProfileError(f"cannot read targets of type {target['type']!r}: supported are duckdb, postgres, spark")


def relations_for_target(target: Mapping[str, Any]) -> Relations:
    return Relations.for_schemas(str(target.get("schema", "main")))
