"""Parsing and validation of raw client rows: the Python twin of stg_crm__clients and int_clients__validated."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

# Each constant mirrors the macro of the same name in macros/parsing/.
# The whitespace trimmed from both ends of every text value, and nothing else
# (docs/decisions/0007-text-normalisation.md): ASCII space, tab, LF, VT, FF, CR, the
# no-break spaces, the Unicode space separators, line and paragraph separators and the BOM.
TRIMMED_WHITESPACE = (
    "\t\n\x0b\x0c\r "
    "\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# Case is folded for ASCII letters only, so "ENTİTY" or full-width "ｙｅｓ" stay unknown.
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
AMOUNT_PATTERN = re.compile(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?")
AMOUNT_OUT_OF_RANGE_PATTERN = re.compile(r"[+-]?0*[1-9][0-9]{36,}([.eE].*)?|.*[eE][+-]?0*[1-9][0-9]{3,}")
NON_FINITE_SPELLINGS = frozenset(sign + word for sign in ("", "+", "-") for word in ("nan", "inf", "infinity"))
TIMESTAMP_PATTERN = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"([ T](?P<time>[0-9]{2}:[0-9]{2}(:[0-9]{2}([.](?P<fraction>[0-9]{1,9}))?)?)"
    r"(?P<zone>Z|(?P<sign>[+-])(?P<hours>[0-9]{2})(:?(?P<minutes>[0-9]{2})(:?(?P<seconds>[0-9]{2}))?)?)?)?"
)
# Zoned date-times are shifted to UTC; on the first and last day of the calendar the shift could
# leave years 1-9999, which no engine agrees on, so there an offset is not accepted.
EDGE_DATES = frozenset({"0001-01-01", "9999-12-31"})
TRUE_SPELLINGS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_SPELLINGS = frozenset({"false", "f", "no", "n", "0"})
INVESTOR_TYPES = ("individual", "family_company", "entity")
CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("1e16")  # money_type() is decimal(18, 2)

RAW_COLUMNS = ("client_id", "client_name", "aum", "is_sfo", "investor_type", "investments", "updated_at")


class AmountError(ValueError):
    """An amount that cannot be used; `problem` is the reject-reason suffix (not_numeric, negative, ...)."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem


def clean_text(value: str | None) -> str | None:
    """Text with TRIMMED_WHITESPACE trimmed from both ends, None when blank (macros/parsing/clean_text.sql)."""
    if value is None:
        return None
    stripped = value.strip(TRIMMED_WHITESPACE)
    return stripped or None


def ascii_lower(text: str) -> str:
    """Text with A-Z lower-cased and every other character kept (macros/parsing/ascii_lower.sql)."""
    return text.translate(ASCII_LOWER)


def parse_amount_text(text: str | None) -> Decimal:
    """Cleaned text to an exact amount rounded half away from zero to the cent, or AmountError.

    Mirrors macros/parsing/amount_problem.sql and parse_amount.sql, check for check.
    """
    if text is None:
        raise AmountError("missing", "is missing")
    if ascii_lower(text) in NON_FINITE_SPELLINGS:
        raise AmountError("not_finite", f"must be finite; got {text!r}")
    if not AMOUNT_PATTERN.fullmatch(text):
        raise AmountError("not_numeric", f"must be a number; got {text!r}")
    out_of_range = AmountError("out_of_range", f"must be below {MONEY_LIMIT:,.0f}; got {text!r}")
    if AMOUNT_OUT_OF_RANGE_PATTERN.fullmatch(text):
        raise out_of_range
    exact = Decimal(text)
    if exact != 0 and exact.adjusted() >= MONEY_LIMIT.adjusted():
        raise out_of_range
    amount = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    if abs(amount) >= MONEY_LIMIT:
        raise out_of_range
    if amount < 0:
        raise AmountError("negative", f"must not be negative; got {text!r}")
    return abs(amount)  # turns -0.00 into 0.00


def parse_boolean_text(text: str | None) -> bool | None:
    """true/t/yes/y/1 or false/f/no/n/0 in any case; None text is False; anything else None (rejected)."""
    if text is None:
        return False
    lowered = ascii_lower(text)
    if lowered in TRUE_SPELLINGS:
        return True
    if lowered in FALSE_SPELLINGS:
        return False
    return None


def parse_investor_type_text(text: str | None) -> str | None:
    """An investor type in any case; None text is 'individual'; an unknown value None (rejected)."""
    if text is None:
        return "individual"
    lowered = ascii_lower(text)
    return lowered if lowered in INVESTOR_TYPES else None


def parse_timestamp_text(text: str | None) -> datetime | None:
    """ISO 8601 date or date-time text to a naive UTC datetime; None when blank, malformed or impossible.

    A `Z` or `+HH[:MM[:SS]]` offset is subtracted to give UTC; without one the text is UTC. Digits
    past the microsecond are dropped (truncated). Mirrors macros/parsing/parse_timestamp.sql.
    """
    match = None if text is None else TIMESTAMP_PATTERN.fullmatch(text)
    if match is None:
        return None
    fraction = (match["fraction"] or "")[:6]
    local_text = match["date"] + (" " + match["time"].split(".")[0] if match["time"] else "")
    try:
        local = datetime.fromisoformat(local_text) + timedelta(microseconds=int(fraction.ljust(6, "0")))
    except ValueError:
        return None
    if match["sign"] is None:
        return local
    if match["date"] in EDGE_DATES:
        return None
    hours, minutes, seconds = (int(match[part] or "0") for part in ("hours", "minutes", "seconds"))
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return local - offset if match["sign"] == "+" else local + offset


@dataclass(frozen=True)
class RawClient:
    """One source row, every value as the text the warehouse returns for it."""

    client_id: str | None
    client_name: str | None
    aum: str | None
    is_sfo: str | None
    investor_type: str | None
    investments: str | None
    updated_at: str | None = None

    @classmethod
    def from_mapping(cls, row: Mapping[str, str | None]) -> RawClient:
        return cls(**{column: row.get(column) for column in RAW_COLUMNS})


@dataclass(frozen=True)
class ValidClient:
    """A source row that passed validation, typed."""

    client_id: str
    client_name: str | None
    aum: Decimal
    is_sfo: bool
    investor_type: str
    investments: Decimal | None


@dataclass(frozen=True)
class RejectedClient:
    """A source row that cannot be scored, with its machine-readable reason."""

    raw: RawClient
    client_id: str | None
    reject_reason: str


def field_reject_reason(raw: RawClient) -> str | None:
    """The first per-field problem of a row, as int_clients__validated orders its checks after duplicates."""
    try:
        parse_amount_text(clean_text(raw.aum))
    except AmountError as error:
        return f"aum_{error.problem}"
    investments_text = clean_text(raw.investments)
    if investments_text is not None:
        try:
            parse_amount_text(investments_text)
        except AmountError as error:
            return f"investments_{error.problem}"
    if parse_boolean_text(clean_text(raw.is_sfo)) is None:
        return "is_sfo_not_boolean"
    if parse_investor_type_text(clean_text(raw.investor_type)) is None:
        return "investor_type_unknown"
    updated_at_text = clean_text(raw.updated_at)
    if updated_at_text is not None and parse_timestamp_text(updated_at_text) is None:
        return "updated_at_not_timestamp"
    return None


def duplicate_reject_reasons(rows: list[RawClient]) -> list[str | None]:
    """For each row, 'updated_at_ambiguous' / 'duplicate_client_id' / 'superseded_by_newer_row' or None.

    A repeated client_id is resolved only by one unique latest updated_at; then the older
    copies are superseded. When any copy's updated_at is unreadable (not blank, not a
    timestamp), nobody can say which copy is newest, so every copy is 'updated_at_ambiguous';
    with no unique latest updated_at every copy is a duplicate.
    """
    copies: dict[str, list[int]] = defaultdict(list)
    for index, raw in enumerate(rows):
        client_id = clean_text(raw.client_id)
        if client_id is not None:
            copies[client_id].append(index)
    reasons: list[str | None] = [None] * len(rows)
    for indexes in copies.values():
        if len(indexes) == 1:
            continue
        texts = {index: clean_text(rows[index].updated_at) for index in indexes}
        stamps = {index: parse_timestamp_text(text) for index, text in texts.items()}
        unreadable = any(texts[index] is not None and stamps[index] is None for index in indexes)
        known = [stamp for stamp in stamps.values() if stamp is not None]
        latest = max(known) if known else None
        latest_copies = sum(1 for stamp in known if stamp == latest)
        for index in indexes:
            if unreadable:
                reasons[index] = "updated_at_ambiguous"
            elif latest_copies != 1:
                reasons[index] = "duplicate_client_id"
            elif stamps[index] != latest:
                reasons[index] = "superseded_by_newer_row"
    return reasons


def validate_clients(rows: Iterable[RawClient]) -> tuple[list[ValidClient], list[RejectedClient]]:
    """Split source rows into scorable clients and rejects; every row lands in exactly one list."""
    all_rows = list(rows)
    valid: list[ValidClient] = []
    rejected: list[RejectedClient] = []
    for raw, duplicate_reason in zip(all_rows, duplicate_reject_reasons(all_rows), strict=True):
        client_id = clean_text(raw.client_id)
        reason = "client_id_missing" if client_id is None else duplicate_reason or field_reject_reason(raw)
        if reason is not None or client_id is None:
            rejected.append(RejectedClient(raw=raw, client_id=client_id, reject_reason=reason or "client_id_missing"))
            continue
        investments_text = clean_text(raw.investments)
        is_sfo = parse_boolean_text(clean_text(raw.is_sfo))
        investor_type = parse_investor_type_text(clean_text(raw.investor_type))
        # field_reject_reason has rejected every row where these are None.
        assert is_sfo is not None
        assert investor_type is not None
        valid.append(
            ValidClient(
                client_id=client_id,
                client_name=clean_text(raw.client_name),
                aum=parse_amount_text(clean_text(raw.aum)),
                is_sfo=is_sfo,
                investor_type=investor_type,
                investments=None if investments_text is None else parse_amount_text(investments_text),
            )
        )
    return valid, rejected
