"""Read access to a built warehouse (DuckDB file today) for the row-by-row verification and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

import duckdb


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
