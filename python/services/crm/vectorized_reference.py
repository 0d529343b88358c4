"""The Python reference over whole Arrow batches: raw text parsed and scored in NumPy, twin of the scalar reference.

``client_priority.PriorityScorer`` and ``raw_clients`` score one row at a time; this module does the
same for every row it can *vouch for* and says which rows those are. It vouches only for plain
text, where no cleaning rule can matter: ids, names and amounts that are non-empty ASCII with a
visible character at each end (no padding of any kind: spaces, tabs, NBSP, U+3000, ...), amounts
``[0-9]{1,16}(.[0-9]{1,2})?`` (exact integer cents, nothing to round), no ``updated_at``. Flags
and investor types take any ASCII spelling, each distinct one parsed once by ``raw_clients``
itself. Every other row is left to the scalar reference, which stays canonical.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from services.crm.arrow_arrays import integers, numpy_integers, present
from services.crm.client_priority import TIERS, client_tier, tier_label, tier_priority
from services.crm.kernels import NULL_CENTS, plain_source_rows, read_only, scored_rows, spelling_codes
from services.crm.policy import Policy
from services.crm.raw_clients import INVESTOR_TYPES, clean_text, parse_boolean_text, parse_investor_type_text
from services.crm.verification_report import COMPARED_COLUMNS

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
Bools = npt.NDArray[np.bool_]

TIER_REASONS = ("single_family_office", "aum_at_least_tier_1_min", "aum_at_least_tier_2_min", "aum_below_tier_2_min")
QP_CATEGORIES = ("natural_person", "family_company", "sfo_as_family_company", "entity")
# Codes are four bits: 0-13 index a column's expected values, then these two.
UNKNOWN_CODE = 14  # a mart value outside the expected ones
NULL_CODE = 15
# A flag or type column's distinct spellings coded by a linear search (kernels.spelling_codes);
# a column with more goes to Arrow's hash table.
MOST_SPELLINGS = 64

MONEY_COLUMNS = ("aum", "investments", "qp_amount_tested", "qp_threshold")
# Every other compared column but the name (hashed) is a small code; deriving them from
# COMPARED_COLUMNS means a column added to the comparison cannot be left out of the fingerprint.
PACKED_COLUMNS = tuple(name for name in COMPARED_COLUMNS if name not in (*MONEY_COLUMNS, "client_name"))


@dataclass(frozen=True)
class Labels:
    """The values each categorical column may hold, in code order, taken from the scalar reference."""

    tiers: tuple[str, ...]
    tier_labels: tuple[str, ...]
    tier_reasons: tuple[str, ...]
    qp_categories: tuple[str, ...]
    investor_types: tuple[str, ...]
    policy_versions: tuple[str, ...]

    @classmethod
    def for_policy(cls, policy: Policy) -> Labels:
        return cls(
            tiers=TIERS,
            tier_labels=tuple(tier_label(tier, policy) for tier in TIERS),
            tier_reasons=TIER_REASONS,
            qp_categories=QP_CATEGORIES,
            investor_types=INVESTOR_TYPES,
            policy_versions=(policy.version,),
        )

    def values(self) -> dict[str, tuple[object, ...]]:
        """Each packed column's expected values: a mart value's code is its index here."""
        return {
            "is_sfo": (False, True),
            "investor_type": self.investor_types,
            "tier": self.tiers,
            "tier_label": self.tier_labels,
            "priority": (0, 1, 2, 3),
            "tier_reason": self.tier_reasons,
            "qp_category": self.qp_categories,
            "is_qualified_purchaser": (False, True),
            "qp_basis": self.qp_categories,
            "policy_version": self.policy_versions,
        }


@dataclass(frozen=True)
class ReferenceBatch:
    """The reference's compared columns for one batch of source rows, valid where `vouched`.

    With DuckDB's hash of each raw id and of each name as the mart holds it (`kernels.hash_texts`):
    computed in the same pass over the text as the plain-text test.
    """

    vouched: Bools
    key_hashes: U64
    name_hashes: U64
    packed: U64
    aum: I64
    investments: I64
    qp_amount_tested: I64
    qp_threshold: I64

    def money(self) -> tuple[I64, I64, I64, I64]:
        return self.aum, self.investments, self.qp_amount_tested, self.qp_threshold


def reference_batch(batch: pa.RecordBatch, policy: Policy) -> ReferenceBatch:
    """Parse and score a batch of raw source text (raw_clients.RAW_COLUMNS, all text).

    Says which rows it vouches for; the values of the others are meaningless. Whether a row's
    client has a reject (a repeated id) is not known here: the caller excludes those.
    """
    vouched, key_hashes, name_hashes, aum, investments = plain_source_rows(
        text_buffers(batch.column("client_id")),
        text_buffers(batch.column("client_name")),
        text_buffers(batch.column("aum")),
        text_buffers(batch.column("investments")),
        text_buffers(batch.column("updated_at")),
    )
    # Few distinct spellings: each parsed once by the scalar rules, then looked up by the ladder.
    known, packed, amount_tested, threshold = scored_rows(
        read_only(aum),
        read_only(investments),
        _parsed_spellings(batch.column("is_sfo"), _parse_flag),
        _parsed_spellings(batch.column("investor_type"), _parse_investor_type),
        _ladder(policy),
    )
    return ReferenceBatch(vouched & known, key_hashes, name_hashes, packed, aum, investments, amount_tested, threshold)


def reference_codes(
    policy: Policy, *, aum: I64, investments: I64, investments_known: Bools, is_sfo: Bools, investor_type: I64
) -> tuple[U64, I64, I64]:
    """The reference's columns for plain rows: packed categorical codes, qp_amount_tested and qp_threshold.

    The same rule ladder as client_priority.PriorityScorer, over whole arrays. In: amounts in
    integer cents, investor types as indexes into raw_clients.INVESTOR_TYPES. Out: the codes
    packed as `pack_codes` does, and the two QP amounts in cents.
    """
    # The loop reads a table at each row's type unchecked: a code outside it would score garbage.
    if investor_type.size and not 0 <= int(investor_type.min()) <= int(investor_type.max()) < len(INVESTOR_TYPES):
        raise ValueError(f"investor types are indexes into {INVESTOR_TYPES}")
    _, packed, amount_tested, threshold = scored_rows(
        read_only(np.asarray(aum, np.int64)),
        read_only(np.where(investments_known, investments, NULL_CENTS)),
        (read_only(np.asarray(is_sfo, np.int64)), _IDENTITY),
        (read_only(np.asarray(investor_type, np.int64)), _IDENTITY),
        _ladder(policy),
    )
    return packed, amount_tested, threshold


@functools.cache
def _ladder(policy: Policy) -> tuple[I64, U64, Bools]:
    """`kernels.scored_rows`' ladder: the policy's four minimums in cents and the two lookup tables."""
    minimums = (
        policy.tier_1_min_aum,
        policy.tier_2_min_aum,
        policy.qp_min_investments_person,
        policy.qp_min_investments_entity,
    )
    thresholds = np.array([_cents_of(amount) for amount in minimums], np.int64)
    return read_only(thresholds), read_only(_PACKED.ravel()), read_only(_ENTITY.ravel())


def qp_categories(is_sfo: Bools, investor_type: I64) -> I64:
    """The QP category (an index into QP_CATEGORIES) of each client: an SFO tests as a family company."""
    return np.select(
        [
            is_sfo,
            investor_type == INVESTOR_TYPES.index("family_company"),
            investor_type == INVESTOR_TYPES.index("entity"),
        ],
        [
            QP_CATEGORIES.index("sfo_as_family_company"),
            QP_CATEGORIES.index("family_company"),
            QP_CATEGORIES.index("entity"),
        ],
        default=QP_CATEGORIES.index("natural_person"),
    )


def packed_codes(reason: I64, is_sfo: Bools, investor_type: I64, qualified: Bools) -> U64:
    """Every packed column, from the tier reason (an index into TIER_REASONS), the flag, the type and the QP test."""
    tier = np.array([TIERS.index(client_tier(name)) for name in TIER_REASONS])[reason]
    category = qp_categories(is_sfo, investor_type)
    return pack_codes(
        is_sfo=is_sfo.astype(np.int64),
        investor_type=investor_type,
        tier=tier,
        tier_label=tier,
        priority=np.array([tier_priority(name) for name in TIERS])[tier],
        tier_reason=reason,
        qp_category=category,
        is_qualified_purchaser=qualified.astype(np.int64),
        qp_basis=np.where(qualified, category, NULL_CODE),
        policy_version=np.zeros_like(tier),
    )


def pack_codes(**codes: npt.NDArray[np.int64]) -> U64:
    """Small codes (0-15), four bits each, in PACKED_COLUMNS order."""
    packed = np.zeros(np.shape(next(iter(codes.values()))), np.uint64)
    for position, name in enumerate(PACKED_COLUMNS):
        packed |= codes[name].astype(np.uint64) << np.uint64(4 * position)
    return packed


# Tables of every combination of their inputs (4 x 2 x 3 x 2 packs; whether a flag and type test
# as an entity): a lookup per row instead of a dozen passes.
_ENTITY = qp_categories(
    *np.meshgrid([False, True], np.arange(len(INVESTOR_TYPES)), indexing="ij")
) == QP_CATEGORIES.index("entity")
_PACKED = packed_codes(
    *np.meshgrid(
        np.arange(len(TIER_REASONS)), [False, True], np.arange(len(INVESTOR_TYPES)), [False, True], indexing="ij"
    )
)
# Values that are their own codes (a flag as 0 or 1, a type as its index): for `scored_rows`.
_IDENTITY = read_only(np.arange(max(2, len(INVESTOR_TYPES)), dtype=np.int64))


# ---------- raw text, vectorized


def as_string(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One utf8 array (engines hand out large_string, string_view or chunks too)."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    return text if text.type == pa.string() else pc.cast(text, pa.string())


# The bytes of a column without any: kernels never index an empty array.
NO_TEXT = pa.py_buffer(b"\0")


def string_buffers(text: pa.Array) -> tuple[I32, npt.NDArray[np.uint8]]:
    """A utf8 array's value offsets (len + 1, Arrow's own int32) and its data bytes (never empty); read-only views."""
    offsets = np.frombuffer(text.buffers()[1], np.int32)[text.offset : text.offset + len(text) + 1]
    data_buffer = text.buffers()[2]
    if data_buffer is None or not data_buffer.size:
        data_buffer = NO_TEXT
    return read_only(offsets), read_only(np.frombuffer(data_buffer, np.uint8))


def text_buffers(text: pa.Array | pa.ChunkedArray) -> tuple[I32, npt.NDArray[np.uint8], Bools]:
    """What the kernels read: a text column's offsets, its UTF-8 bytes, and which rows are not null."""
    text = as_string(text)
    offsets, data = string_buffers(text)
    return offsets, data, read_only(present(text))


def _parse_flag(raw: str) -> int:
    """1 true, 0 false, -1 when left to the scalar path (rejects, non-ASCII)."""
    if not raw.isascii():
        return -1
    parsed = parse_boolean_text(clean_text(raw))
    return -1 if parsed is None else int(parsed)


def _parse_investor_type(raw: str) -> int:
    if not raw.isascii():
        return -1
    parsed = parse_investor_type_text(clean_text(raw))
    return -1 if parsed is None else INVESTOR_TYPES.index(parsed)


def _parsed_spellings(text: pa.Array | pa.ChunkedArray, parse: Callable[[str], int]) -> tuple[I64, I64]:
    """Each row's spelling code and `parse` of each distinct spelling (0 for null, the last code): the
    row's value is values[code]. Each distinct spelling is parsed once."""
    text = as_string(text)
    codes, firsts, coded = spelling_codes(*text_buffers(text), MOST_SPELLINGS)
    if coded:
        spellings = text.take(integers(firsts)).to_pylist()
    else:
        # More spellings than a column of flags or types has: Arrow's hash table codes them.
        encoded = pc.dictionary_encode(text)
        spellings = encoded.dictionary.to_pylist()
        codes = numpy_integers(encoded.indices, null=len(spellings)).astype(np.int64)
    values = np.array([parse(spelling) for spelling in spellings] + [0], np.int64)
    return read_only(codes), read_only(values)


def _cents_of(amount: Decimal) -> int:
    return int(amount * 100)
