"""A dashboard-style reader for the PostgreSQL swap test: as the BI role, query the marts in a loop.

Run as a separate process: python -m tests.postgres_reader SCHEMA STOP_FILE OUT_JSON (connection
settings from the CRM_PRIORITY_PG_* environment, as profiles.yml reads them).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import psycopg2

from services.crm.publication import checksum_of


def main(schema: str, stop_file: Path, out: Path) -> None:
    connection = psycopg2.connect(
        host=os.environ["CRM_PRIORITY_PG_HOST"],
        port=int(os.environ["CRM_PRIORITY_PG_PORT"]),
        user=os.environ["CRM_PRIORITY_PG_USER"],
        dbname=os.environ["CRM_PRIORITY_PG_DATABASE"],
    )
    connection.autocommit = True
    reads: list[dict[str, object]] = []
    errors: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("set role bi_reader")
        while not stop_file.exists():
            try:
                # One statement, one snapshot: a build seen whole has the same clients in every mart.
                cursor.execute(
                    f"select (select count(*) from {schema}.client_priority),"
                    f" (select coalesce(sum(hashtextextended(t::text, 0)), 0) from {schema}.client_priority t),"
                    f" (select coalesce(sum(client_count), 0) from {schema}.aum_distribution),"
                    f" (select count(*) from {schema}.allocation_queue)"
                )
                count, total, distributed, queued = cursor.fetchone() or (None, None, None, None)
                reads.append(
                    {"rows": count, "checksum": checksum_of(count, total), "consistent": count == distributed == queued}
                )
            except psycopg2.Error as error:  # every failure counts: a dashboard would show it to a user
                errors.append(f"{type(error).__name__}: {error}".strip())
            time.sleep(0.01)
    connection.close()
    out.write_text(json.dumps({"reads": reads, "errors": errors}), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
