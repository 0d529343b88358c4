"""A BI-style reader for the concurrency test: opens the published mart, reads it whole, closes, again and again.

Run as a separate process: python -m tests.published_reader SNAPSHOT STOP_FILE OUT_JSON
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

from services.crm.publish import mart_checksum


def main(snapshot: Path, stop_file: Path, out: Path) -> None:
    reads: list[dict[str, object]] = []
    errors: list[str] = []
    while not stop_file.exists():
        try:
            with duckdb.connect(str(snapshot), read_only=True) as connection:
                counted = connection.execute("select count(*) from client_priority").fetchone()
                reads.append(
                    {"rows": counted[0] if counted else None, "checksum": mart_checksum(connection, "client_priority")}
                )
        except Exception as error:  # every failure counts: a BI tool would show it to a user
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.01)
    out.write_text(json.dumps({"reads": reads, "errors": errors}), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
