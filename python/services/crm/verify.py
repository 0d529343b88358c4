"""The row-by-row check: every client of a built mart against the Python reference, every column."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from services.crm.client_priority import PriorityScorer
from services.crm.raw_clients import RAW_COLUMNS, RawClient, clean_text, validate_clients
from services.crm.warehouse import DuckDBWarehouse, Relations, Warehouse

# Every mart column the reference computes; client_id is the key and scored_at a run timestamp.
COMPARED_COLUMNS = (
    "client_name",
    "aum",
    "investments",
    "is_sfo",
    "investor_type",
    "tier",
    "tier_label",
    "priority",
    "tier_reason",
    "qp_category",
    "qp_amount_tested",
    "qp_threshold",
    "is_qualified_purchaser",
    "qp_basis",
    "policy_version",
)
REJECT_KEY_COLUMNS = ("client_id", "reject_reason", "client_name", "aum_raw", "is_sfo_raw", "investor_type_raw")
RejectKey = tuple[object, ...]
PROGRESS_EVERY = 10_000


@dataclass(frozen=True)
class Mismatch:
    client_id: str
    column: str
    mart_value: object
    reference_value: object


@dataclass
class VerificationReport:
    """What the comparison found; `ok` only when every client agrees on every column."""

    rows_compared: int = 0
    rows_matched: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    missing_in_mart: list[str] = field(default_factory=list)
    unexpected_in_mart: list[str] = field(default_factory=list)
    duplicated_in_mart: list[str] = field(default_factory=list)
    rejects_compared: int = 0
    missing_in_rejects: list[RejectKey] = field(default_factory=list)
    unexpected_in_rejects: list[RejectKey] = field(default_factory=list)
    # The batch path's own account (0 on the scalar path): rows it vouched for by fingerprint, and
    # key buckets whose fingerprints disagreed, so that their rows were compared one by one.
    rows_vouched: int = 0
    buckets_rechecked: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.mismatches
            or self.missing_in_mart
            or self.unexpected_in_mart
            or self.duplicated_in_mart
            or self.missing_in_rejects
            or self.unexpected_in_rejects
        )

    @property
    def mismatches_by_column(self) -> Counter[str]:
        return Counter(mismatch.column for mismatch in self.mismatches)

    def describe(self, limit: int = 20) -> str:
        """A readable account of every failure (the first `limit` of each kind)."""
        lines = [
            f"compared {self.rows_compared} clients: {self.rows_matched} matched, "
            f"{len(self.mismatches)} column mismatches, {len(self.missing_in_mart)} missing in mart, "
            f"{len(self.unexpected_in_mart)} unexpected in mart, {len(self.duplicated_in_mart)} duplicated in mart; "
            f"{self.rejects_compared} rejects, {len(self.missing_in_rejects)} missing, "
            f"{len(self.unexpected_in_rejects)} unexpected"
        ]
        lines += [
            f"  mismatch client_id={m.client_id} column={m.column} "
            f"mart={m.mart_value!r} reference={m.reference_value!r}"
            for m in self.mismatches[:limit]
        ]
        lines += [f"  missing in mart: client_id={client_id}" for client_id in self.missing_in_mart[:limit]]
        lines += [f"  unexpected in mart: client_id={client_id}" for client_id in self.unexpected_in_mart[:limit]]
        lines += [f"  duplicated in mart: client_id={client_id}" for client_id in self.duplicated_in_mart[:limit]]
        lines += [f"  missing in rejects: {key}" for key in self.missing_in_rejects[:limit]]
        lines += [f"  unexpected in rejects: {key}" for key in self.unexpected_in_rejects[:limit]]
        return "\n".join(lines)


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

    expected_rejects: Counter[RejectKey] = Counter(
        (r.client_id, r.reject_reason, clean_text(r.raw.client_name), r.raw.aum, r.raw.is_sfo, r.raw.investor_type)
        for r in rejected
    )
    actual_rejects: Counter[RejectKey] = Counter()
    for row in reject_rows:
        actual_rejects[tuple(row.get(column) for column in REJECT_KEY_COLUMNS)] += 1
    report.rejects_compared = sum(actual_rejects.values())
    report.missing_in_rejects = sorted((expected_rejects - actual_rejects).elements(), key=repr)
    report.unexpected_in_rejects = sorted((actual_rejects - expected_rejects).elements(), key=repr)
    return report


def _same(mart_value: object, reference_value: object) -> bool:
    # bool is an int in Python: 1 == True must not pass for a boolean column.
    if isinstance(mart_value, bool) or isinstance(reference_value, bool):
        return type(mart_value) is type(reference_value) and mart_value == reference_value
    return mart_value == reference_value


def read_source(warehouse: Warehouse, relation: str) -> list[RawClient]:
    """Every source row as the text the staging model reads (cast to text, untrimmed)."""
    present = set(warehouse.columns(relation))
    text = warehouse.text_type
    selected = ", ".join(
        f"cast({column} as {text}) as {column}" if column in present else f"cast(null as {text}) as {column}"
        for column in RAW_COLUMNS
    )
    return [RawClient.from_mapping(row) for row in warehouse.rows(f"select {selected} from {relation}")]  # type: ignore[arg-type]


def verify_warehouse(
    warehouse: Warehouse,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
    *,
    row_by_row: bool = False,
) -> VerificationReport:
    """Compare the source, the mart and the rejects of one warehouse with the reference.

    A DuckDB warehouse is checked by the vectorized batch path (services.crm.batch_verify), which
    a property test proves gives the same report as the scalar one; `row_by_row` forces the scalar
    path, the reference, which every other warehouse uses.
    """
    if isinstance(warehouse, DuckDBWarehouse) and not row_by_row:
        from services.crm.batch_verify import verify_duckdb  # it imports this module

        return verify_duckdb(warehouse.connection, relations, scorer, on_progress)
    return verify_row_by_row(warehouse, relations, scorer, on_progress)


def verify_row_by_row(
    warehouse: Warehouse,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
) -> VerificationReport:
    """The scalar check: every row read into Python and compared by `compare`."""
    reject_columns = ", ".join(REJECT_KEY_COLUMNS)
    return compare(
        read_source(warehouse, relations.source),
        warehouse.rows(f"select * from {relations.mart}"),
        warehouse.rows(f"select {reject_columns} from {relations.rejects}"),
        scorer,
        on_progress,
    )
