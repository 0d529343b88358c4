"""Policy what-if: who changes tier or Qualified Purchaser status if the thresholds move, over a built mart.

The mart's own ``tier``, ``priority`` and ``is_qualified_purchaser`` are the current state (the
row-by-row check proves them against the reference); the proposed state is computed from each
client's ``aum``, ``investments``, ``is_sfo`` and ``investor_type`` by the vectorized reference,
batch by batch, so memory stays flat whatever the size of the book. Money stays exact: integer
cents while counting, ``Decimal`` in the result. The dbt twin is ``analyses/policy_whatif_*.sql``.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from services.crm.arrow_arrays import bools, integers, numpy_bools, numpy_integers, present, texts
from services.crm.client_priority import TIERS, tier_priority
from services.crm.fingerprints import cents
from services.crm.kernels import NULL_CENTS
from services.crm.policy import POLICY_VAR_NAMES, Policy, PolicyError, load_policy
from services.crm.raw_clients import INVESTOR_TYPES

# The vectorized reference: imported here and nowhere else in this module.
from services.crm.vectorized_reference import PACKED_COLUMNS, QP_CATEGORIES, reference_codes
from services.crm.warehouse import DuckDBWarehouse, Warehouse

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

BATCH_ROWS = 1 << 18
READ_AHEAD = 2  # batches read while one is counted: ~20 MB each at 2^18 rows
DEFAULT_LIMIT = 20
# Exact sums of int64 cents in int64 arithmetic: each amount split into 32-bit halves, so a
# batch of 2^18 rows sums to under 2^50 per half, whatever the amounts (up to $10^16 each).
HALF_BITS = 32
MONEY = pa.decimal128(18, 2)
# The mart's columns the what-if reads, categories as codes into the tuples above (portable
# SQL: DuckDB, PostgreSQL and Spark alike). A value outside them reads as null and is refused.
CODED_COLUMNS: dict[str, tuple[str, ...]] = {
    "investor_type": INVESTOR_TYPES,
    "tier": TIERS,
    "qp_category": QP_CATEGORIES,
}
MART_SCHEMA = pa.schema(
    [
        ("client_id", pa.string()),
        ("client_name", pa.string()),
        ("aum", MONEY),
        ("investments", MONEY),
        ("is_sfo", pa.bool_()),
        ("investor_type", pa.int64()),
        ("tier", pa.int64()),
        ("priority", pa.int64()),
        ("is_qualified_purchaser", pa.bool_()),
        ("qp_category", pa.int64()),
        ("policy_version", pa.string()),
    ]
)
# One changed client, as `--out` writes it and analyses/policy_whatif_changed_clients.sql selects it.
CHANGED_SCHEMA = pa.schema(
    [
        ("client_id", pa.string()),
        ("client_name", pa.string()),
        ("aum", MONEY),
        ("qp_category", pa.string()),
        ("current_tier", pa.string()),
        ("proposed_tier", pa.string()),
        ("current_priority", pa.int64()),
        ("proposed_priority", pa.int64()),
        ("current_is_qualified_purchaser", pa.bool_()),
        ("proposed_is_qualified_purchaser", pa.bool_()),
    ]
)


class WhatIfError(ValueError):
    """A proposal or the mart cannot be used; the message says which."""


# ---------- the proposal


def parse_settings(settings: Iterable[str]) -> dict[str, str]:
    """`NAME=VALUE` strings as a dict; WhatIfError naming a malformed one or a name that is no policy var."""
    proposed: dict[str, str] = {}
    for setting in settings:
        name, equals, value = setting.partition("=")
        name = name.strip()
        if not equals or not name:
            raise WhatIfError(f"--set takes NAME=VALUE, such as tier_1_min_aum=75000000; got {setting!r}.")
        if name not in POLICY_VAR_NAMES:
            raise WhatIfError(f"--set {name}: not a policy var; expected one of {', '.join(POLICY_VAR_NAMES)}.")
        proposed[name] = value
    return proposed


def proposed_policy(overrides: Mapping[str, str], project_dir: Path | None = None) -> Policy:
    """The policy in dbt_project.yml with `overrides` applied, validated exactly as the dbt vars are.

    Twin of macros/policy/proposed_policy.sql; raises PolicyError with the dbt macros' message.
    """
    unknown = sorted(set(overrides) - set(POLICY_VAR_NAMES))
    if unknown:
        raise PolicyError(f"not a policy var: {', '.join(unknown)}; expected one of {', '.join(POLICY_VAR_NAMES)}.")
    return load_policy(project_dir, overrides=overrides)


# ---------- the result


@dataclass(frozen=True)
class Transition:
    """One cell of the transition matrix: clients moving from current_tier to proposed_tier, and their AUM."""

    current_tier: str
    proposed_tier: str
    client_count: int
    total_aum: Decimal


@dataclass(frozen=True)
class QualifiedPurchaserChange:
    """Qualified Purchaser status now and under the proposal, for one 2(a)(51) category."""

    qp_category: str
    client_count: int
    current_qualified_count: int
    proposed_qualified_count: int
    gained_count: int
    lost_count: int
    gained_aum: Decimal
    lost_aum: Decimal


@dataclass(frozen=True)
class ChangedClient:
    """A client whose tier or Qualified Purchaser status changes."""

    client_id: str
    client_name: str | None
    aum: Decimal
    qp_category: str
    current_tier: str
    proposed_tier: str
    current_priority: int
    proposed_priority: int
    current_is_qualified_purchaser: bool
    proposed_is_qualified_purchaser: bool


@dataclass(frozen=True)
class WhatIfResult:
    """What a proposal does to the book: the transition matrix, QP gained and lost, the largest changes."""

    current_policy: Policy
    proposed_policy: Policy
    mart_policy_versions: tuple[str, ...]
    client_count: int
    total_aum: Decimal
    changed_count: int
    changed_aum: Decimal
    transitions: tuple[Transition, ...]
    qualified_purchasers: tuple[QualifiedPurchaserChange, ...]
    largest_changes: tuple[ChangedClient, ...]

    @property
    def mart_matches_policy(self) -> bool:
        """Whether the mart was scored under the policy in dbt_project.yml (the base of the proposal)."""
        return self.mart_policy_versions in ((), (self.current_policy.version,))

    def as_json(self) -> dict[str, Any]:
        """Everything as JSON-ready values; money as exact decimal strings."""

        def policy(value: Policy) -> dict[str, Any]:
            return {"policy_version": value.version, **value.as_strings()}

        def record(item: object) -> dict[str, Any]:
            return {
                name: str(value) if isinstance(value, Decimal) else value
                for name, value in vars(item).items()  # frozen dataclasses without slots
            }

        return {
            "current_policy": policy(self.current_policy),
            "proposed_policy": policy(self.proposed_policy),
            "mart_policy_versions": list(self.mart_policy_versions),
            "client_count": self.client_count,
            "total_aum": str(self.total_aum),
            "changed_count": self.changed_count,
            "changed_aum": str(self.changed_aum),
            "transitions": [record(item) for item in self.transitions],
            "qualified_purchasers": [record(item) for item in self.qualified_purchasers],
            "largest_changes": [record(item) for item in self.largest_changes],
        }


# ---------- reading the mart


def mart_query(mart: str) -> str:
    """The mart's columns the what-if needs, categories as small integer codes (portable SQL)."""

    def code(column: str, values: tuple[str, ...]) -> str:
        whens = " ".join(f"when '{value}' then {index}" for index, value in enumerate(values))
        return f"case {column} {whens} end as {column}"

    return (
        "select client_id, client_name, aum, investments, is_sfo, "
        f"{code('investor_type', INVESTOR_TYPES)}, {code('tier', TIERS)}, priority, is_qualified_purchaser, "
        f"{code('qp_category', QP_CATEGORIES)}, policy_version from {mart}"
    )


def mart_batches(warehouse: Warehouse, mart: str, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The mart as Arrow record batches of MART_SCHEMA, the next read in a thread while the caller counts this one."""
    return _read_ahead(_mart_batches(warehouse, mart, batch_rows))


def _read_ahead(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """`batches`, produced in a thread at most READ_AHEAD ahead (DuckDB and Arrow release the GIL)."""
    ahead: queue.Queue[pa.RecordBatch | BaseException | None] = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def read() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                ahead.put(batch)
            ahead.put(None)
        except BaseException as error:  # handed to the consumer, which raises it
            ahead.put(error)

    thread = threading.Thread(target=read, name="whatif-reader", daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a reader waiting on a full queue
            with contextlib.suppress(queue.Empty):
                ahead.get(timeout=0.1)
        thread.join()


def _mart_batches(warehouse: Warehouse, mart: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The mart as Arrow record batches of MART_SCHEMA: streamed by DuckDB, else built from the rows read."""
    sql = mart_query(mart)
    if isinstance(warehouse, DuckDBWarehouse):
        for batch in warehouse.connection.sql(sql).to_arrow_reader(batch_rows):
            yield pa.RecordBatch.from_arrays(
                [batch.column(name).cast(MART_SCHEMA.field(name).type) for name in MART_SCHEMA.names],
                schema=MART_SCHEMA,
            )
        return
    rows: list[dict[str, object]] = []
    for row in warehouse.rows(sql):
        rows.append(row)
        if len(rows) == batch_rows:
            yield pa.RecordBatch.from_pylist(rows, schema=MART_SCHEMA)
            rows = []
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=MART_SCHEMA)


# ---------- scoring and counting


def proposed_codes(batch: pa.RecordBatch, policy: Policy, aum: I64 | None = None) -> tuple[I64, Bools]:
    """Each client's tier (an index into TIERS) and Qualified Purchaser status under `policy`.

    Twin of macros/whatif/whatif_rescored_clients.sql, through the vectorized reference.
    `aum` is the batch's aum in cents when the caller has it already.
    """
    investments = batch.column("investments")
    packed, *_ = reference_codes(
        policy,
        aum=decimal_cents(batch.column("aum")) if aum is None else aum,
        investments=decimal_cents(investments),
        investments_known=present(investments),
        is_sfo=numpy_bools(batch.column("is_sfo")),
        investor_type=_numpy_ints(batch.column("investor_type")),
    )
    return _unpack(packed, "tier"), _unpack(packed, "is_qualified_purchaser").astype(np.bool_)


def _unpack(packed: npt.NDArray[np.uint64], column: str) -> I64:
    """One column's code out of vectorized_reference.pack_codes' four bits per column."""
    shift = np.uint64(4 * PACKED_COLUMNS.index(column))
    return ((packed >> shift) & np.uint64(0xF)).astype(np.int64)


def decimal_cents(values: pa.Array) -> I64:
    """A decimal(18, 2) column as exact integer cents (0 where null)."""
    amounts = cents(values if values.type == MONEY else pc.cast(values, MONEY))
    return np.where(amounts == NULL_CENTS, 0, amounts)


def exact_group_sums(groups: I64, group_count: int, cents: I64) -> list[int]:
    """The sum of `cents` per group (0 to group_count - 1) as exact Python ints."""
    high, low = cents >> HALF_BITS, cents & ((1 << HALF_BITS) - 1)
    sums = []
    for half in (high, low):
        totals = np.zeros(group_count, np.int64)
        np.add.at(totals, groups, half)
        sums.append(totals)
    return [(int(high_sum) << HALF_BITS) + int(low_sum) for high_sum, low_sum in zip(*sums, strict=True)]


def _numpy_ints(values: pa.Array) -> I64:
    return numpy_integers(values).astype(np.int64)


def _cents_to_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def changed_clients_table(
    batch: pa.RecordBatch, proposed_tier: I64, proposed_qualified: Bools, rows: npt.NDArray[np.intp]
) -> pa.Table:
    """The clients at positions `rows` of one batch with CHANGED_SCHEMA, categories as their names."""
    picked = integers(rows)
    tier_names, category_names = texts(TIERS), texts(QP_CATEGORIES)
    priorities = np.array([tier_priority(tier) for tier in TIERS], dtype=np.int64)
    return pa.table(
        {
            "client_id": batch.column("client_id").take(picked),
            "client_name": batch.column("client_name").take(picked),
            "aum": batch.column("aum").take(picked),
            "qp_category": pc.take(category_names, batch.column("qp_category").take(picked)),
            "current_tier": pc.take(tier_names, batch.column("tier").take(picked)),
            "proposed_tier": pc.take(tier_names, integers(proposed_tier[rows])),
            "current_priority": batch.column("priority").take(picked),
            "proposed_priority": integers(priorities[proposed_tier[rows]]),
            "current_is_qualified_purchaser": batch.column("is_qualified_purchaser").take(picked),
            "proposed_is_qualified_purchaser": bools(proposed_qualified[rows]),
        },
        schema=CHANGED_SCHEMA,
    )


def largest_rows(rows: npt.NDArray[np.intp], aum: I64, limit: int) -> npt.NDArray[np.intp]:
    """Of `rows`, the `limit` with the largest AUM, and any tied with the smallest of those (client_id decides)."""
    if rows.size <= limit:
        return rows
    amounts = aum[rows]
    cutoff = np.partition(amounts, rows.size - limit)[rows.size - limit]
    picked: npt.NDArray[np.intp] = rows[amounts >= cutoff]
    return picked


class _Tally:
    """Running counts over the batches, in exact Python ints, and the largest changes so far."""

    def __init__(self, limit: int) -> None:
        cells, categories = len(TIERS) ** 2, len(QP_CATEGORIES)
        self.limit = limit
        self.transition_counts = [0] * cells
        self.transition_cents = [0] * cells
        # Per category: clients, qualified now, qualified proposed, gained, lost.
        self.qp_counts = [[0] * 5 for _ in range(categories)]
        self.gained_cents = [0] * categories
        self.lost_cents = [0] * categories
        self.changed_count = 0
        self.changed_cents = 0
        self.policy_versions: set[str] = set()
        self.largest: pa.Table | None = None

    def add(
        self, batch: pa.RecordBatch, proposed: Policy, on_changed: Callable[[pa.Table], None] | None = None
    ) -> None:
        """Count one batch of the mart (MART_SCHEMA); hand its changed clients, if any, to `on_changed`."""
        for column, values in CODED_COLUMNS.items():
            if batch.column(column).null_count:
                raise WhatIfError(f"the mart has a {column} outside {values}: rebuild it.")
        self.policy_versions.update(str(value) for value in pc.unique(batch.column("policy_version")).to_pylist())
        aum = decimal_cents(batch.column("aum"))
        current_tier = _numpy_ints(batch.column("tier"))
        current_qualified = numpy_bools(batch.column("is_qualified_purchaser"))
        category = _numpy_ints(batch.column("qp_category"))
        proposed_tier, proposed_qualified = proposed_codes(batch, proposed, aum)

        cells = len(TIERS) ** 2
        cell = current_tier * len(TIERS) + proposed_tier
        _accumulate(self.transition_counts, np.bincount(cell, minlength=cells).tolist())
        _accumulate(self.transition_cents, exact_group_sums(cell, cells, aum))

        categories = len(QP_CATEGORIES)
        gained = proposed_qualified & ~current_qualified
        lost = current_qualified & ~proposed_qualified
        for position, flags in enumerate((np.ones_like(gained), current_qualified, proposed_qualified, gained, lost)):
            counts = np.bincount(category[flags], minlength=categories).tolist()
            for index in range(categories):
                self.qp_counts[index][position] += counts[index]
        _accumulate(self.gained_cents, exact_group_sums(category[gained], categories, aum[gained]))
        _accumulate(self.lost_cents, exact_group_sums(category[lost], categories, aum[lost]))

        changed = np.flatnonzero((proposed_tier != current_tier) | gained | lost)
        if not changed.size:
            return
        self.changed_count += int(changed.size)
        self.changed_cents += exact_group_sums(np.zeros(changed.size, np.int64), 1, aum[changed])[0]
        if self.limit > 0:
            table = changed_clients_table(
                batch, proposed_tier, proposed_qualified, largest_rows(changed, aum, self.limit)
            )
            candidates = table if self.largest is None else pa.concat_tables([self.largest, table])
            self.largest = candidates.sort_by([("aum", "descending"), ("client_id", "ascending")]).slice(0, self.limit)
        if on_changed is not None:
            on_changed(changed_clients_table(batch, proposed_tier, proposed_qualified, changed))

    def result(self, current: Policy, proposed: Policy) -> WhatIfResult:
        tiers = len(TIERS)
        transitions = tuple(
            Transition(
                current_tier=TIERS[index // tiers],
                proposed_tier=TIERS[index % tiers],
                client_count=self.transition_counts[index],
                total_aum=_cents_to_decimal(self.transition_cents[index]),
            )
            for index in range(tiers * tiers)
        )
        qualified_purchasers = tuple(
            QualifiedPurchaserChange(
                qp_category=category,
                client_count=self.qp_counts[index][0],
                current_qualified_count=self.qp_counts[index][1],
                proposed_qualified_count=self.qp_counts[index][2],
                gained_count=self.qp_counts[index][3],
                lost_count=self.qp_counts[index][4],
                gained_aum=_cents_to_decimal(self.gained_cents[index]),
                lost_aum=_cents_to_decimal(self.lost_cents[index]),
            )
            for index, category in enumerate(QP_CATEGORIES)
        )
        largest = () if self.largest is None else tuple(ChangedClient(**row) for row in self.largest.to_pylist())
        return WhatIfResult(
            current_policy=current,
            proposed_policy=proposed,
            mart_policy_versions=tuple(sorted(self.policy_versions)),
            client_count=sum(self.transition_counts),
            total_aum=_cents_to_decimal(sum(self.transition_cents)),
            changed_count=self.changed_count,
            changed_aum=_cents_to_decimal(self.changed_cents),
            transitions=transitions,
            qualified_purchasers=qualified_purchasers,
            largest_changes=largest,
        )


def _accumulate(totals: list[int], values: list[int]) -> None:
    for index, value in enumerate(values):
        totals[index] += int(value)


def analyze(
    batches: Iterable[pa.RecordBatch],
    current: Policy,
    proposed: Policy,
    *,
    limit: int = DEFAULT_LIMIT,
    on_changed: Callable[[pa.Table], None] | None = None,
) -> WhatIfResult:
    """Re-score every client of the mart's batches (MART_SCHEMA) under `proposed` and count the changes.

    `current` is the policy the proposal starts from (dbt_project.yml's); the current tier and QP
    status are the mart's. `on_changed` receives each batch's changed clients (CHANGED_SCHEMA),
    for writing them all out; the result keeps the `limit` largest by AUM (then client_id).
    """
    tally = _Tally(limit)
    for batch in batches:
        if batch.num_rows == 0:
            continue
        tally.add(batch, proposed, on_changed)
    return tally.result(current, proposed)


def what_if(
    warehouse: Warehouse,
    mart: str,
    proposed: Policy,
    *,
    current: Policy | None = None,
    limit: int = DEFAULT_LIMIT,
    on_changed: Callable[[pa.Table], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> WhatIfResult:
    """The what-if of `proposed` over the mart relation `mart` of a warehouse (see `analyze`)."""
    return analyze(
        mart_batches(warehouse, mart, batch_rows),
        current or load_policy(),
        proposed,
        limit=limit,
        on_changed=on_changed,
    )
