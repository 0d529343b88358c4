"""PriorityScorer: the Python reference implementation of the client_priority mart, one client at a time."""

from __future__ import annotations

import json
import logging
import math
import numbers
from decimal import Decimal
from typing import TypedDict

from services.crm.policy import Policy, load_policy
from services.crm.raw_clients import (
    INVESTOR_TYPES,
    MONEY_LIMIT,
    AmountError,
    ValidClient,
    ascii_lower,
    clean_text,
    parse_amount_text,
)

logger = logging.getLogger(__name__)
# Scoring decisions are audit events: a logger of their own lets operators route them to the audit trail.
audit_logger = logging.getLogger(f"{__name__}.audit")

# Mirrors of the macros in macros/scoring/; each function is named after its macro.
TIERS = ("TIER_1_SFO", "TIER_2_UHNW", "TIER_3_RETAIL")
LOG10_2 = math.log10(2)  # decimal digits per bit, to say how large a refused int is without str() of it


class ClientInputError(ValueError):
    """An argument of calculate_priority has a bad value; `argument` names it, `problem` says what is wrong."""

    def __init__(self, argument: str, problem: str, message: str) -> None:
        super().__init__(f"{argument} {message}")
        self.argument = argument
        self.problem = problem

    @property
    def reject_reason(self) -> str:
        """The reject_reason the mart gives the same value (aum_negative, investor_type_unknown, ...)."""
        return f"{self.argument}_{self.problem}"


class PriorityProfile(TypedDict):
    """What calculate_priority returns: the mart's scoring columns for one client."""

    aum: Decimal
    investments: Decimal | None
    is_sfo: bool
    investor_type: str
    tier: str
    tier_label: str
    priority: int
    tier_reason: str
    qp_category: str
    qp_amount_tested: Decimal
    qp_threshold: Decimal
    is_qualified_purchaser: bool
    qp_basis: str | None
    policy_version: str


def tier_reason(aum: Decimal, is_sfo: bool, policy: Policy) -> str:
    if is_sfo:
        return "single_family_office"
    if aum >= policy.tier_1_min_aum:
        return "aum_at_least_tier_1_min"
    if aum >= policy.tier_2_min_aum:
        return "aum_at_least_tier_2_min"
    return "aum_below_tier_2_min"


def client_tier(reason: str) -> str:
    return {
        "single_family_office": "TIER_1_SFO",
        "aum_at_least_tier_1_min": "TIER_1_SFO",
        "aum_at_least_tier_2_min": "TIER_2_UHNW",
        "aum_below_tier_2_min": "TIER_3_RETAIL",
    }[reason]


def tier_priority(tier: str) -> int:
    return TIERS.index(tier) + 1


def usd_short(amount: Decimal) -> str:
    """$50M, $2.5M, $750K or $1,234.56, as macros/scoring/usd_short.sql writes amounts."""
    cents = int(amount * 100)
    whole = cents // 100
    if cents % 100 == 0 and whole >= 1_000_000 and whole % 10_000 == 0:
        return f"${_trim_decimal(whole // 1_000_000, (whole % 1_000_000) // 10_000)}M"
    if cents % 100 == 0 and whole >= 1_000 and whole % 10 == 0:
        return f"${_trim_decimal(whole // 1_000, (whole % 1_000) // 10)}K"
    return f"${whole:,}.{cents % 100:02d}"


def _trim_decimal(whole: int, hundredths: int) -> str:
    return str(whole) if hundredths == 0 else f"{whole}.{hundredths:02d}".rstrip("0")


def tier_label(tier: str, policy: Policy) -> str:
    return {
        "TIER_1_SFO": f"Tier 1 — Single Family Office / {usd_short(policy.tier_1_min_aum)}+",
        "TIER_2_UHNW": f"Tier 2 — Ultra High Net Worth / {usd_short(policy.tier_2_min_aum)}+",
        "TIER_3_RETAIL": f"Tier 3 — Retail / under {usd_short(policy.tier_2_min_aum)}",
    }[tier]


def qp_amount_tested(aum: Decimal, investments: Decimal | None) -> Decimal:
    return investments if investments is not None and investments > aum else aum


def qp_category(investor_type: str, is_sfo: bool) -> str:
    if is_sfo:
        return "sfo_as_family_company"
    if investor_type in ("family_company", "entity"):
        return investor_type
    return "natural_person"


def qp_threshold(category: str, policy: Policy) -> Decimal:
    return policy.qp_min_investments_entity if category == "entity" else policy.qp_min_investments_person


def is_qualified_purchaser(amount_tested: Decimal, threshold: Decimal) -> bool:
    return amount_tested >= threshold


def qp_basis(qualified: bool, category: str) -> str | None:
    return category if qualified else None


def coerce_amount(value: object, argument: str, *, required: bool) -> Decimal | None:
    """An amount argument as an exact Decimal rounded to the cent, or ClientInputError / TypeError naming it.

    Accepts int, Decimal, numeric str and float, and NumPy's integer and floating scalars
    as the values they hold. A float goes through its shortest decimal repr (0.1 -> "0.1"),
    not its binary value (0.1000000000000000055...), because that is the number the caller
    wrote; np.float32(0.1) likewise through NumPy's shortest repr for its precision. A blank
    str is missing, as the mart reads a blank cell: unknown when the amount is optional.
    """
    if value is None:
        if required:
            raise ClientInputError(argument, "missing", "is required; got None")
        return None
    text = _amount_text(value, argument)
    if text is None:
        if required:
            raise ClientInputError(argument, "missing", f"is required; got {value!r}")
        return None
    try:
        return parse_amount_text(text)
    except AmountError as error:
        raise ClientInputError(argument, error.problem, str(error)) from None


def _amount_text(value: object, argument: str) -> str | None:
    """An amount argument as the cleaned text parse_amount_text reads (None when blank)."""
    if isinstance(value, bool) or _numpy_kind(value) == "b":
        raise TypeError(f"{argument} must be a number, not a boolean; got {value!r}")
    if isinstance(value, numbers.Integral):  # int and NumPy's integers
        whole = int(value)
        if abs(whole) >= MONEY_LIMIT:  # str() of a huge int is refused past 4,300 digits
            raise ClientInputError(
                argument,
                "out_of_range",
                f"must be below {MONEY_LIMIT:,.0f}; got an int of about {int(whole.bit_length() * LOG10_2) + 1:,} "
                "digits",
            )
        return str(whole)
    if isinstance(value, float):  # float and np.float64, a float subclass whose repr names NumPy
        if not math.isfinite(value):
            raise ClientInputError(argument, "not_finite", f"must be finite; got {float.__repr__(value)}")
        return float.__repr__(value)
    if isinstance(value, numbers.Real) and _numpy_kind(value) == "f":  # np.float32, np.float16, ...
        return clean_text(str(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ClientInputError(argument, "not_finite", f"must be finite; got {value!r}")
        return str(value)
    if isinstance(value, str):
        return clean_text(value)
    raise TypeError(
        f"{argument} must be a number (int, Decimal, float, numeric str or a NumPy number); got {type(value).__name__}"
    )


def _numpy_kind(value: object) -> str | None:
    """NumPy's kind letter for a NumPy scalar ('b' bool, 'i'/'u' integer, 'f' floating), else None."""
    dtype = getattr(value, "dtype", None)
    kind = getattr(dtype, "kind", None)
    return kind if isinstance(kind, str) and type(value).__module__ == "numpy" else None


def coerce_investor_type(value: object) -> str:
    if value is None:
        return "individual"
    if not isinstance(value, str):
        raise TypeError(f"investor_type must be a str or None; got {type(value).__name__}")
    cleaned = clean_text(value)
    normalized = "individual" if cleaned is None else ascii_lower(cleaned)
    if normalized not in INVESTOR_TYPES:
        raise ClientInputError("investor_type", "unknown", f"must be one of {INVESTOR_TYPES}; got {value!r}")
    return normalized


class PriorityScorer:
    """Scores clients exactly as the client_priority mart does, from the same policy vars."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or load_policy()

    def calculate_priority(
        self,
        aum: object,
        is_sfo: object = False,
        investor_type: object = None,
        investments: object = None,
        *,
        client_id: str | None = None,
    ) -> PriorityProfile:
        """Tier, priority and Qualified Purchaser status of one client.

        Raises ClientInputError (a ValueError) or TypeError naming the bad argument.
        `client_id` only labels the audit event.
        """
        exact_aum = coerce_amount(aum, "aum", required=True)
        assert exact_aum is not None
        if _numpy_kind(is_sfo) == "b":  # np.bool_ as the bool it holds
            is_sfo = bool(is_sfo)
        if not isinstance(is_sfo, bool):
            raise TypeError(f"is_sfo must be a bool; got {type(is_sfo).__name__} {is_sfo!r}")
        exact_investments = coerce_amount(investments, "investments", required=False)
        kind = coerce_investor_type(investor_type)
        return self._score(client_id, exact_aum, is_sfo, kind, exact_investments)

    def score(self, client: ValidClient) -> PriorityProfile:
        """Score a source row that passed validation (the mart's path for every row)."""
        return self._score(client.client_id, client.aum, client.is_sfo, client.investor_type, client.investments)

    def _score(
        self, client_id: str | None, aum: Decimal, is_sfo: bool, investor_type: str, investments: Decimal | None
    ) -> PriorityProfile:
        policy = self.policy
        reason = tier_reason(aum, is_sfo, policy)
        tier = client_tier(reason)
        category = qp_category(investor_type, is_sfo)
        amount_tested = qp_amount_tested(aum, investments)
        threshold = qp_threshold(category, policy)
        qualified = is_qualified_purchaser(amount_tested, threshold)
        profile = PriorityProfile(
            aum=aum,
            investments=investments,
            is_sfo=is_sfo,
            investor_type=investor_type,
            tier=tier,
            tier_label=tier_label(tier, policy),
            priority=tier_priority(tier),
            tier_reason=reason,
            qp_category=category,
            qp_amount_tested=amount_tested,
            qp_threshold=threshold,
            is_qualified_purchaser=qualified,
            qp_basis=qp_basis(qualified, category),
            policy_version=policy.version,
        )
        if audit_logger.isEnabledFor(logging.INFO):
            audit_logger.info(json.dumps(_audit_event(client_id, profile, policy), sort_keys=True))
        return profile


def _audit_event(client_id: str | None, profile: PriorityProfile, policy: Policy) -> dict[str, object]:
    """One scoring decision as a JSON-ready record for the institutional audit trail."""
    return {
        "event": "client_priority_scored",
        "client_id": client_id,
        "inputs": {
            "aum": str(profile["aum"]),
            "is_sfo": profile["is_sfo"],
            "investor_type": profile["investor_type"],
            "investments": None if profile["investments"] is None else str(profile["investments"]),
        },
        "tier": profile["tier"],
        "priority": profile["priority"],
        "tier_reason": profile["tier_reason"],
        "is_qualified_purchaser": profile["is_qualified_purchaser"],
        "qp_basis": profile["qp_basis"],
        "qp_amount_tested": str(profile["qp_amount_tested"]),
        "qp_threshold": str(profile["qp_threshold"]),
        "policy_version": policy.version,
        "policy": policy.as_strings(),
    }
