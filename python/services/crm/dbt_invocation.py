"""Running this project's dbt commands in-process, with the project's folders and environment."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.crm.policy import find_project_dir

DEFAULT_DB_RELATIVE = Path("data") / "crm_priority.duckdb"


class DbtCommandError(RuntimeError):
    """A dbt command did not succeed; the message says which and why."""


@dataclass(frozen=True)
class DbtProject:
    """Where the dbt project, its profiles and its artifacts are."""

    project_dir: Path
    profiles_dir: Path
    target: str | None = None
    target_path: Path | None = None

    @classmethod
    def default(cls, target: str | None = None, profiles_dir: Path | None = None) -> DbtProject:
        project_dir = find_project_dir()
        return cls(project_dir=project_dir, profiles_dir=profiles_dir or project_dir / "profiles", target=target)

    @property
    def artifacts_dir(self) -> Path:
        """Where dbt writes manifest.json and its partial-parse state for this project."""
        return self.target_path or self.project_dir / "target"

    def source_relation(self) -> str:
        """The client table dbt read in its last command here (see `source_relation`)."""
        return source_relation(self.artifacts_dir)

    def invoke(self, args: Sequence[str], dbt_vars: Mapping[str, Any] | None = None, *, check: bool = True) -> Any:
        """Run one dbt command; returns dbt's result object, raises DbtCommandError when it fails.

        With check=False a command that ran but failed (a test, a stale source) returns its result
        for the caller to read; one that could not run (an exception in dbt) still raises.
        """
        from dbt.cli.main import dbtRunner  # imported late: dbt takes a second to import

        full_args = [*args, "--project-dir", str(self.project_dir), "--profiles-dir", str(self.profiles_dir)]
        if self.target:
            full_args += ["--target", self.target]
        if self.target_path:
            full_args += ["--target-path", str(self.target_path)]
        if dbt_vars:
            full_args += ["--vars", json.dumps(dict(dbt_vars))]
        # dbt-spark's session method may start Spark in this process, and Spark fixes its Python
        # workers' interpreter then: the check's mapInArrow, run later in that session, needs this
        # one, with the project's packages (warehouse.spark_session says the same).
        spark_python = os.environ.get("PYSPARK_PYTHON", sys.executable)
        with environment({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PYSPARK_PYTHON": spark_python}):
            try:
                result = dbtRunner().invoke(full_args)
            finally:
                release_duckdb_file()
        if not result.success and (check or result.exception is not None):
            detail = result.exception or _failed_nodes(result.result)
            raise DbtCommandError(f"dbt {' '.join(args)} failed: {detail}")
        return result


def release_duckdb_file() -> None:
    """Close the DuckDB file dbt-duckdb keeps open after a command.

    dbt-duckdb holds its database for the life of the process, and DuckDB lets
    one process attach a file once: without this, publishing or verifying in
    the same process fails with "Unique file handle conflict".
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]


def _failed_nodes(results: Any) -> str:
    failed = [
        f"{getattr(item.node, 'name', '?')} ({item.status}: {item.message})"
        for item in getattr(results, "results", None) or []
        if str(item.status) in {"error", "fail", "runtime error"}
    ]
    return "; ".join(failed) or "see logs/dbt.log"


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Env vars set for the length of a block, then put back as they were."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


SOURCE_UNIQUE_ID = "source.crm_priority.crm.clients"


def source_relation(target_path: Path) -> str:
    """`schema.table` of the client table as dbt resolved it in its last parse into `target_path`.

    Read from dbt's own manifest rather than recomputed, so the row-by-row proof reads exactly
    the relation dbt read, whatever vars (crm_source_schema, crm_source_table, --vars) chose it.
    """
    manifest_file = target_path / "manifest.json"
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        node = manifest["sources"][SOURCE_UNIQUE_ID]
    except (OSError, ValueError, KeyError) as error:
        raise DbtCommandError(f"Cannot read the source relation from {manifest_file}: {error}") from None
    return f"{node['schema']}.{node['identifier']}"
