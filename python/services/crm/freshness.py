"""Whether the client feed is fresh enough to publish: `dbt source freshness` on it, read into one verdict.

The thresholds are the dbt vars source_warn_after_hours and source_error_after_hours
(dbt_project.yml); the load timestamp is the column named by source_loaded_at_column, when the
table has one (macros/freshness/source_loaded_at_query.sql).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from services.crm.dbt_invocation import DbtCommandError, DbtProject

logger = logging.getLogger(__name__)

SOURCE_SELECTOR = "source:crm.clients"
FreshnessStatus = Literal["pass", "warn", "error"]


class StaleSourceError(DbtCommandError):
    """The feed is older than source_error_after_hours: a scheduled build must not publish it."""

    def __init__(self, result: FreshnessResult) -> None:
        super().__init__(result.describe())
        self.result = result


@dataclass(frozen=True)
class FreshnessResult:
    """dbt's verdict on the client table: its newest load, how old that was, and the thresholds."""

    source: str
    status: FreshnessStatus
    max_loaded_at: datetime
    snapshotted_at: datetime
    age_hours: float
    warn_after_hours: float | None
    error_after_hours: float | None

    @property
    def ok(self) -> bool:
        """Fresh enough to publish: pass or warn."""
        return self.status != "error"

    def describe(self) -> str:
        thresholds = f"warn after {self.warn_after_hours:g} h, error after {self.error_after_hours:g} h"
        return (
            f"source {self.source} is {self.status}: last loaded {self.max_loaded_at.isoformat()}, "
            f"{self.age_hours:.1f} h before {self.snapshotted_at.isoformat()} ({thresholds})"
        )


def check_freshness(dbt: DbtProject, dbt_vars: Mapping[str, Any] | None = None) -> FreshnessResult:
    """Run `dbt source freshness` on the client table and return its verdict.

    dbt_vars are the build's vars (so the same source table and thresholds are used). Returns the
    result for pass and warn (a warn is also logged); raises StaleSourceError when the feed is past
    source_error_after_hours, and DbtCommandError when dbt could not measure it.
    """
    outcome = dbt.invoke(["source", "freshness", "--select", SOURCE_SELECTOR], dbt_vars, check=False)
    # The run's results also hold the project's hooks; the source's is the one measured on a source node.
    results = [
        item
        for item in getattr(outcome.result, "results", None) or []
        if str(getattr(item.node, "resource_type", "")) == "source"
    ]
    if len(results) != 1:
        raise DbtCommandError(f"dbt source freshness measured {len(results)} sources, expected {SOURCE_SELECTOR}")
    result = _freshness_result(results[0])
    if result.status == "error":
        raise StaleSourceError(result)
    if result.status == "warn":
        logger.warning("%s", result.describe())
    return result


def _freshness_result(item: Any) -> FreshnessResult:
    status = str(item.status)
    if status not in ("pass", "warn", "error"):
        raise DbtCommandError(f"dbt source freshness could not measure {item.node.unique_id}: {item.message}")
    criteria = item.node.freshness
    return FreshnessResult(
        source=f"{item.node.source_name}.{item.node.name}",
        status=status,  # type: ignore[arg-type]  # narrowed by the check above
        max_loaded_at=item.max_loaded_at,
        snapshotted_at=item.snapshotted_at,
        age_hours=float(item.age) / 3600,
        warn_after_hours=_hours(criteria.warn_after),
        error_after_hours=_hours(criteria.error_after),
    )


def _hours(threshold: Any) -> float | None:
    if threshold is None or threshold.count is None:
        return None
    per_hour = {"minute": 1 / 60, "hour": 1, "day": 24}[str(threshold.period)]
    return float(threshold.count * per_hour)
