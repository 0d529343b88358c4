"""Write, audit, publish: one scheduled build of the mart, made visible to readers only after its row-by-row proof.

1. write: `dbt build` into a place readers do not read (the working DuckDB file, a build
   schema on PostgreSQL, a build database on Spark), with the tier history of the current
   publication copied in first, so the history only ever records published builds; then
   `dbt source freshness`: a feed past its error age stops the build (yesterday's book must
   not be published as today's);
2. audit: the row-by-row verification of that build against the Python reference, reading
   the source relation dbt itself resolved (its manifest), whatever vars chose it;
3. publish: only then, atomically, make that build what readers see.

Any failure raises BuildStepError naming the step; readers keep the previous build
(docs/decisions/0008-write-audit-publish.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from services.crm.client_priority import PriorityScorer
from services.crm.dbt_invocation import DbtCommandError, DbtProject
from services.crm.freshness import FreshnessResult, StaleSourceError, check_freshness
from services.crm.policy import load_policy
from services.crm.publication import Publication, PublishError
from services.crm.verify import VerificationReport, verify_warehouse
from services.crm.warehouse import Relations, Warehouse

logger = logging.getLogger(__name__)


class Step(Enum):
    WRITE = "write"
    FRESHNESS = "freshness"
    AUDIT = "audit"
    PUBLISH = "publish"


class BuildStepError(RuntimeError):
    """A step failed and nothing was published; `report` is the proof's when the audit failed."""

    def __init__(self, step: Step, message: str, report: VerificationReport | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.report = report


class Publisher(Protocol):
    """One engine's way to keep a build out of readers' sight until it is proven, then show it at once."""

    build_id: str

    def lock(self) -> AbstractContextManager[None]:
        """Held for the whole build: a second build on the same place is refused (BuildLockedError)."""
        ...

    def prepare(self) -> dict[str, Any]:
        """Make the write location (with the published tier history in it); dbt vars that direct the build there."""
        ...

    def build_relations(self, source: str) -> Relations:
        """The build's mart and rejects, before publishing, beside the source dbt read."""
        ...

    def open_build(self) -> Warehouse:
        """A read-only connection to the build for the audit (closed by the caller)."""
        ...

    def publish(self, proof: dict[str, object]) -> Publication:
        """Atomically make the build what readers see (PublishError leaves the previous one)."""
        ...

    def discard(self) -> None:
        """Remove what a failed build wrote; readers never saw it."""
        ...


@dataclass(frozen=True)
class BuildOutcome:
    publication: Publication
    report: VerificationReport
    source: str
    freshness: FreshnessResult


def proof_summary(report: VerificationReport) -> dict[str, object]:
    """The proof's figures, as recorded with the publication."""
    return {
        "ok": report.ok,
        "clients_compared": report.rows_compared,
        "clients_matched": report.rows_matched,
        "rejects_compared": report.rejects_compared,
        "mismatches": len(report.mismatches),
        "missing_in_mart": len(report.missing_in_mart),
        "unexpected_in_mart": len(report.unexpected_in_mart),
        "missing_in_rejects": len(report.missing_in_rejects),
        "unexpected_in_rejects": len(report.unexpected_in_rejects),
        "clients_unchecked": report.clients_unchecked,
    }


def run_build(
    dbt: DbtProject,
    publisher: Publisher,
    dbt_vars: Mapping[str, Any],
    *,
    on_step: Callable[[Step], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BuildOutcome:
    """Write, audit and publish one build; BuildStepError (or BuildLockedError) when it must not be published."""
    # The proof scores with the policy the build used: dbt_project.yml's vars with the same overrides.
    scorer = PriorityScorer(load_policy(dbt.project_dir, overrides=dbt_vars))
    step = on_step or (lambda _: None)
    with publisher.lock():
        try:
            step(Step.WRITE)
            build_vars, source = write(dbt, publisher, dbt_vars)
            step(Step.FRESHNESS)
            freshness = fresh(dbt, build_vars)
            step(Step.AUDIT)
            report = audit(publisher, source, scorer, on_progress)
            step(Step.PUBLISH)
            try:
                publication = publisher.publish(proof_summary(report))
            except PublishError as error:
                raise BuildStepError(Step.PUBLISH, str(error)) from None
        except BaseException:
            try:
                publisher.discard()
            except Exception:  # the failure being reported matters more than the clean-up's
                logger.exception("could not discard the failed build %s", publisher.build_id)
            raise
    return BuildOutcome(publication=publication, report=report, source=source, freshness=freshness)


def write(dbt: DbtProject, publisher: Publisher, dbt_vars: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """`dbt build` where the publisher says; the vars it ran with and the source relation it read."""
    try:
        build_vars = {**dbt_vars, **publisher.prepare()}
        dbt.invoke(["build"], build_vars)
        return build_vars, dbt.source_relation()
    except (PublishError, DbtCommandError) as error:
        raise BuildStepError(Step.WRITE, str(error)) from None


def fresh(dbt: DbtProject, build_vars: Mapping[str, Any]) -> FreshnessResult:
    """The client table's freshness; a feed past its error age stops the build."""
    try:
        return check_freshness(dbt, build_vars)
    except StaleSourceError as error:
        raise BuildStepError(Step.FRESHNESS, str(error)) from None
    except DbtCommandError as error:
        raise BuildStepError(Step.FRESHNESS, f"could not measure the source's freshness: {error}") from None


def audit(
    publisher: Publisher, source: str, scorer: PriorityScorer, on_progress: Callable[[int], None] | None
) -> VerificationReport:
    """The row-by-row proof of the build; BuildStepError carrying the report when anything differs."""
    warehouse = publisher.open_build()
    try:
        report = verify_warehouse(warehouse, publisher.build_relations(source), scorer, on_progress)
    finally:
        close = getattr(warehouse, "close", None)
        if close is not None:
            close()
    if not report.ok:
        raise BuildStepError(Step.AUDIT, f"the row-by-row proof failed: {report.describe(limit=0)}", report)
    return report
