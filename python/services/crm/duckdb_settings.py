"""DuckDB's resource bounds (memory, threads, spill folder) from the environment, one source for every connection.

dbt-duckdb reads the same env vars in profiles/profiles.yml (`config_options:` of the dev target), with the
same defaults; the project's own connections pass ``config=duckdb_config()`` to ``duckdb.connect``
(at connect time: DuckDB refuses to change temp_directory once a query has spilled there).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

MEMORY_LIMIT_ENV = "CRM_PRIORITY_DUCKDB_MEMORY_LIMIT"
THREADS_ENV = "CRM_PRIORITY_DUCKDB_THREADS"
TEMP_DIR_ENV = "CRM_PRIORITY_DUCKDB_TEMP_DIR"

# A third of the 24 GiB hosts the scheduled builds share: a 10M-client build (2.4 GB peak) runs
# without spilling, a larger one spills to the temp folder instead of taking the machine.
# DuckDB's own default is 80% of RAM.
DEFAULT_MEMORY_LIMIT = "8GB"
# The scheduler hosts have 2 cores (DuckDB's own default is one thread per core of the machine).
DEFAULT_THREADS = "2"


class DuckDBSettingsError(ValueError):
    """A resource env var holds a value DuckDB would refuse; the message names the var."""


def duckdb_config(environ: Mapping[str, str] | None = None) -> dict[str, str | bool | int | float | list[str]]:
    """The settings for ``duckdb.connect(path, config=...)``, read from the environment.

    Returns memory_limit and threads always (the env var or the default), and temp_directory only
    when CRM_PRIORITY_DUCKDB_TEMP_DIR is set: otherwise DuckDB spills to ``<database>.tmp`` beside
    the file, which is also the profile's default. Raises DuckDBSettingsError for a bad value.
    """
    env = os.environ if environ is None else environ
    memory_limit = env.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
    threads = env.get(THREADS_ENV) or DEFAULT_THREADS
    if not threads.isdigit() or int(threads) < 1:
        raise DuckDBSettingsError(f"{THREADS_ENV} must be a whole number of threads, at least 1; got {threads!r}")
    if "'" in memory_limit:
        raise DuckDBSettingsError(f"{MEMORY_LIMIT_ENV} must be a size such as 4GB or 50%; got {memory_limit!r}")
    config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": memory_limit, "threads": threads}
    temp_dir = env.get(TEMP_DIR_ENV)
    if temp_dir:
        config["temp_directory"] = temp_dir
    return config
