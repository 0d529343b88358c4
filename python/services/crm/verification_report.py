"""What the row-by-row check compares and what it reports: the types every verification module shares."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

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
# Every column of a reject but rejected_at (a run timestamp): the key, the reason and every raw value.
REJECT_KEY_COLUMNS = (
    "client_id",
    "reject_reason",
    "client_id_raw",
    "client_name",
    "aum_raw",
    "is_sfo_raw",
    "investor_type_raw",
    "investments_raw",
    "updated_at_raw",
)
RejectKey = tuple[object, ...]


# Rows (both sides together) read back from differing buckets for the scalar check, at most: about
# 1 KB each in memory. A mart that differs widely shows its first differences, not all of them.
RECHECK_ROWS = 100_000


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
    # key buckets whose fingerprints disagreed, so that their rows were compared one by one; past
    # its recheck limit, differing buckets it left unread (a difference is proven, not detailed)
    # and about how many clients they hold.
    rows_vouched: int = 0
    buckets_rechecked: int = 0
    buckets_unchecked: int = 0
    clients_unchecked: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.mismatches
            or self.missing_in_mart
            or self.unexpected_in_mart
            or self.duplicated_in_mart
            or self.missing_in_rejects
            or self.unexpected_in_rejects
            or self.buckets_unchecked
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
            + (
                f"; {self.buckets_unchecked} more differing key buckets (about {self.clients_unchecked} clients)"
                " not compared row by row"
                if self.buckets_unchecked
                else ""
            )
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
