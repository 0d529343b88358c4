"""Read access to a built warehouse (DuckDB file today) for the row-by-row verification and the CLI."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import duckdb
import jinja2
import yaml


@dataclass(frozen=True)
class Relations:
    """Where the source, the mart and its rejects live in one warehouse."""

    source: str
    mart: str
    rejects: str

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
    def rows(self, sql: str) -> Iterator[dict[str, object]]:
        """Each row of a query as a dict keyed by lower-case column name."""
        ...

    def columns(self, relation: str) -> list[str]:
        """Lower-case column names of a relation."""
        ...


class DuckDBWarehouse:
    """A DuckDB file opened read-only, so it never takes the writer's lock from a build."""

    def __init__(self, path: Path | str, *, read_only: bool = True) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"No DuckDB database at {self.path}: build the mart first (make build).")
        self.connection = duckdb.connect(str(self.path), read_only=read_only)

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

    def __enter__(self) -> DuckDBWarehouse:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class ProfileError(ValueError):
    """The dbt profile or target cannot be read; the message says which."""


def resolve_target(profiles_dir: Path, target: str | None = None, profile: str = "crm_priority") -> dict[str, Any]:
    """One output of profiles.yml with its env_var() calls rendered, as dbt would see it."""
    profiles_file = profiles_dir / "profiles.yml"
    if not profiles_file.is_file():
        raise ProfileError(f"No profiles.yml in {profiles_dir}")
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    environment.globals["env_var"] = _env_var
    rendered = environment.from_string(profiles_file.read_text(encoding="utf-8")).render()
    profiles: dict[str, Any] = yaml.safe_load(rendered) or {}
    if profile not in profiles:
        raise ProfileError(f"profiles.yml has no profile {profile!r}")
    chosen = target or profiles[profile].get("target")
    outputs: dict[str, Any] = profiles[profile].get("outputs") or {}
    if chosen not in outputs:
        raise ProfileError(f"profile {profile!r} has no target {chosen!r}; targets: {sorted(outputs)}")
    return {"name": chosen, **outputs[chosen]}


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
    raise ProfileError(f"verify cannot read targets of type {target['type']!r} yet")


def relations_for_target(target: Mapping[str, Any]) -> Relations:
    return Relations.for_schemas(str(target.get("schema", "main")))
