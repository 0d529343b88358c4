"""The scalar row-by-row check, the canonical one: every source row parsed and scored by the Python reference."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from services.crm.client_priority import PriorityScorer
from services.crm.queries import rejects_select, source_select
from services.crm.raw_clients import RawClient, RejectedClient, clean_text, validate_clients
from services.crm.verification_report import (
    COMPARED_COLUMNS,
    REJECT_KEY_COLUMNS,
    Mismatch,
    RejectKey,
    VerificationReport,
)
from services.crm.warehouse import Relations, Warehouse

PROGRESS_EVERY = 10_000


def compare(
    source_rows: Iterable[RawClient],
    mart_rows: Iterable[Mapping[str, object]],
    reject_rows: Iterable[Mapping[str, object]],
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
) -> VerificationReport:
    """Run the reference on every source row and compare it with the mart and the rejects.

    `on_progress`, when given, is called with the number of mart rows compared so far, every
    PROGRESS_EVERY rows and at the end.
    """
    valid, rejected = validate_clients(source_rows)
    expected = {client.client_id: client for client in valid}
    report = VerificationReport(rows_compared=len(expected))

    seen: set[str] = set()
    for row in mart_rows:
        client_id = str(row["client_id"])
        if client_id in seen:
            report.duplicated_in_mart.append(client_id)
            continue
        seen.add(client_id)
        client = expected.get(client_id)
        if client is None:
            report.unexpected_in_mart.append(client_id)
            continue
        reference: dict[str, object] = {
            "client_name": client.client_name,
            **scorer.score(client),
        }
        row_mismatches = [
            Mismatch(client_id, column, row.get(column), reference[column])
            for column in COMPARED_COLUMNS
            if not _same(row.get(column), reference[column])
        ]
        report.mismatches.extend(row_mismatches)
        report.rows_matched += not row_mismatches
        if on_progress is not None and len(seen) % PROGRESS_EVERY == 0:
            on_progress(len(seen))
    if on_progress is not None:
        on_progress(len(seen))
    report.missing_in_mart = sorted(set(expected) - seen)

    expected_rejects: Counter[RejectKey] = Counter(expected_reject_key(reject) for reject in rejected)
    actual_rejects: Counter[RejectKey] = Counter()
    for row in reject_rows:
        actual_rejects[tuple(row.get(column) for column in REJECT_KEY_COLUMNS)] += 1
    report.rejects_compared = sum(actual_rejects.values())
    report.missing_in_rejects = sorted((expected_rejects - actual_rejects).elements(), key=repr)
    report.unexpected_in_rejects = sorted((actual_rejects - expected_rejects).elements(), key=repr)
    return report


def expected_reject_key(reject: RejectedClient) -> RejectKey:
    """The reject row the reference expects, in REJECT_KEY_COLUMNS order: raw values exactly as received."""
    raw = reject.raw
    values: dict[str, object] = {
        "client_id": reject.client_id,
        "reject_reason": reject.reject_reason,
        "client_id_raw": raw.client_id,
        "client_name": clean_text(raw.client_name),
        "aum_raw": raw.aum,
        "is_sfo_raw": raw.is_sfo,
        "investor_type_raw": raw.investor_type,
        "investments_raw": raw.investments,
        "updated_at_raw": raw.updated_at,
    }
    return tuple(values[column] for column in REJECT_KEY_COLUMNS)


def _same(mart_value: object, reference_value: object) -> bool:
    # bool is an int in Python: 1 == True must not pass for a boolean column.
    if isinstance(mart_value, bool) or isinstance(reference_value, bool):
        return type(mart_value) is type(reference_value) and mart_value == reference_value
    return mart_value == reference_value


def read_source(warehouse: Warehouse, relation: str) -> list[RawClient]:
    """Every source row as the text the staging model reads (cast to text, untrimmed)."""
    sql = source_select(relation, warehouse.columns(relation), warehouse.text_type)
    return [RawClient.from_mapping(row) for row in warehouse.rows(sql)]  # type: ignore[arg-type]


def verify_row_by_row(
    warehouse: Warehouse,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
) -> VerificationReport:
    """The scalar check: every row read into Python and compared by `compare`."""
    return compare(
        read_source(warehouse, relations.source),
        warehouse.rows(f"select * from {relations.mart}"),
        warehouse.rows(rejects_select(relations.rejects)),
        scorer,
        on_progress,
    )
