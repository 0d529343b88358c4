"""A build's record for the build log: what ran, where, under which commit and policy, and how it ended."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.crm.build_log import project_commit
from services.crm.dbt_invocation import DbtCommandError, DbtProject
from services.crm.pipeline import BuildOutcome, Step, proof_summary
from services.crm.policy import Policy
from services.crm.verify import VerificationReport

OUTCOME_FOR_STEP = {
    Step.WRITE: "build_failed",
    Step.FRESHNESS: "stale_source",
    Step.AUDIT: "proof_failed",
    Step.PUBLISH: "publish_failed",
}


def new_log_entry(build_id: str, target: dict[str, Any], project_dir: Path, policy: Policy) -> dict[str, Any]:
    """A build's log record as it starts: what, where, under which commit and policy; no outcome yet."""
    return {
        "build_id": build_id,
        "started_at": utc_now(),
        "target": {"name": target["name"], "engine": target["type"], "schema": target.get("schema")},
        **project_commit(project_dir),
        "policy_version": policy.version,
        "thresholds": {**policy.as_strings(), "max_reject_share": str(policy.max_reject_share)},
        "source": None,
        "rows": {"source": None, "mart": None, "rejects": None},
        "proof": None,
        "published_checksum": None,
        "outcome": "build_failed",  # until the build says otherwise (an interrupted build stays so)
        "message": None,
    }


def published_entry(outcome: BuildOutcome) -> dict[str, Any]:
    """What a published build adds to its log record: the proof, the source read, counts and checksum."""
    publication = outcome.publication
    proven = proven_entry(outcome.report)
    proven["rows"].update(
        mart=publication.row_counts.get("client_priority"),
        rejects=publication.row_counts.get("client_priority_rejects"),
    )
    return {**proven, "source": outcome.source, "outcome": "published", "published_checksum": publication.checksum}


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def proven_entry(report: VerificationReport) -> dict[str, Any]:
    """The proof's summary and the source rows it read (in the mart plus rejected)."""
    return {
        "proof": proof_summary(report),
        "rows": {"source": report.rows_compared + report.rejects_compared, "mart": None, "rejects": None},
    }


def source_read(dbt: DbtProject) -> str | None:
    try:
        return dbt.source_relation()
    except (DbtCommandError, OSError, KeyError, ValueError):
        return None
