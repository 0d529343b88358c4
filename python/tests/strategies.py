"""Hypothesis strategies for client tables as a CRM export sends them: text, boundaries, and junk."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from services.crm.policy import POLICY_VAR_NAMES, load_policy

POLICY = load_policy()
CENT = Decimal("0.01")
THRESHOLDS = [POLICY.amount(name) for name in POLICY_VAR_NAMES]
BOUNDARIES = sorted({edge + offset for edge in THRESHOLDS for offset in (-CENT, Decimal(0), CENT)})


def _plain(amount: Decimal) -> str:
    return f"{amount:f}"


exact_amounts = st.one_of(
    st.sampled_from(BOUNDARIES),
    st.just(Decimal(0)),
    st.decimals(min_value=0, max_value=Decimal("9999999999999999.99"), places=2),
    st.decimals(min_value=0, max_value=Decimal("100000000"), places=4),  # sub-cent values
)

amount_texts = st.one_of(
    exact_amounts.map(_plain),
    st.sampled_from(BOUNDARIES).map(lambda edge: _plain(edge - Decimal("0.005"))),  # rounds onto a boundary
    st.sampled_from(BOUNDARIES).map(lambda edge: _plain(edge - Decimal("0.0051"))),
    exact_amounts.map(lambda amount: f"{amount:e}"),
    exact_amounts.map(lambda amount: f"  {amount:f} "),
    st.sampled_from(["1e400", "-1e400", "1e16", "9999999999999999.995", "12345678901234567890e-5", "0e99999"]),
    st.sampled_from(["NaN", "inf", "-Infinity", "abc", "1,000", "$5", "", " ", "-0.004", "-0.005", "-1", "5e-3"]),
    st.decimals(min_value=-100, max_value=Decimal("-0.01"), places=2).map(_plain),
)

boolean_texts = st.sampled_from(["true", "false", "TRUE", "False", "t", "f", "yes", "No", "y", "N", "1", "0", "", " "])
junk_booleans = st.sampled_from(["maybe", "2", "tru", "-1"])

investor_type_texts = st.sampled_from(
    ["individual", "family_company", "entity", "Entity", " INDIVIDUAL ", "Family_Company", "", " "]
)
junk_investor_types = st.sampled_from(["partnership", "trust", "family company"])


@st.composite
def client_rows(draw: st.DrawFn, client_ids: st.SearchStrategy[str]) -> dict[str, str | None]:
    def maybe_null(strategy: st.SearchStrategy[str]) -> str | None:
        return draw(st.one_of(st.none(), strategy))

    return {
        "client_id": draw(st.one_of(client_ids, st.sampled_from(["", " "]), st.none())),
        "client_name": maybe_null(st.text(alphabet="abcdefgh XYZ'é-", max_size=12)),
        "aum": draw(st.one_of(amount_texts, st.none())),
        "is_sfo": maybe_null(st.one_of(boolean_texts, boolean_texts, boolean_texts, junk_booleans)),
        "investor_type": maybe_null(st.one_of(investor_type_texts, investor_type_texts, junk_investor_types)),
        "investments": draw(st.one_of(st.none(), st.none(), amount_texts)),
    }


client_tables = st.lists(
    client_rows(st.text(alphabet="ABCDEFGHJK0123456789", min_size=1, max_size=3)), min_size=1, max_size=40
)

updated_at_texts = st.one_of(
    st.sampled_from(["2026-01-01", "2026-01-01 00:00:00", "2026-03-01T14:05:00", "2026-03-01 14:05:00.5", ""]),
    st.sampled_from(["2024-02-29", "2100-02-29", "2026-02-30", "yesterday", "2026-13-01 00:00:00", "2026-01-01 24:00"]),
)


@st.composite
def client_rows_with_updated_at(draw: st.DrawFn) -> dict[str, str | None]:
    row = draw(client_rows(st.sampled_from(["A", "B", "C", "D"])))
    row["updated_at"] = draw(st.one_of(st.none(), updated_at_texts))
    return row


# Few client_ids, so copies are common and updated_at has to pick the latest (or cannot).
client_tables_with_updated_at = st.lists(client_rows_with_updated_at(), min_size=1, max_size=25)


@st.composite
def plain_client_tables(draw: st.DrawFn) -> list[dict[str, str | None]]:
    """Well-formed exports only (unique ids, plain amounts to the cent, any flag and type spelling):
    the rows the batch check vouches for by itself, with every threshold ±1 cent among them."""
    plain_amounts = st.one_of(
        st.sampled_from(BOUNDARIES),
        st.just(Decimal(0)),
        st.decimals(min_value=0, max_value=Decimal("9999999999999999.99"), places=2),
    ).map(_plain)
    # Plain ASCII names, not padded: padding and non-ASCII text are for clean_text, on the scalar path.
    names = st.one_of(st.none(), st.from_regex(r"[A-Za-z'-]([A-Za-z '-]*[A-Za-z])?", fullmatch=True))
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "client_name": names,
                    "aum": plain_amounts,
                    "is_sfo": st.one_of(st.none(), boolean_texts),
                    "investor_type": st.one_of(st.none(), investor_type_texts),
                    "investments": st.one_of(st.none(), plain_amounts),
                }
            ),
            min_size=1,
            max_size=40,
        )
    )
    return [{"client_id": f"P{index}", **row} for index, row in enumerate(rows)]


# What real exports carry around and inside their values (docs/decisions/0007-text-normalisation.md):
# the whitespace clean_text trims, some it must not trim (zero-width space, NEL, U+180E), and
# letters that fold differently outside ASCII (dotted capital I, full-width, Kelvin sign, sharp s).
TRIMMED_SPACES = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\u00a0", "\u1680", "\u2000", "\u2007", "\u200a"]
TRIMMED_SPACES += ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff"]
KEPT_SPACES = ["\u200b", "\x85", "\u180e", "\x1c"]
padding = st.lists(st.sampled_from(TRIMMED_SPACES + TRIMMED_SPACES + KEPT_SPACES), max_size=3).map("".join)
unicode_words = st.sampled_from(
    ["ENTİTY", "entıty", "ＥＮＴＩＴＹ", "ｙｅｓ", "Ｔrue", "\u212aelvin", "straße", "İndividual", "ﬁ", "ß"]
)


def padded(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Values with whitespace of any kind before and after them."""
    return st.tuples(padding, strategy, padding).map("".join)


@st.composite
def amount_spellings(draw: st.DrawFn) -> str:
    """Any spelling of the amount grammar: sign, leading zeros, long mantissas, exponents either way."""
    digits = st.text(alphabet="0123456789", max_size=40)
    whole = draw(st.one_of(digits, st.sampled_from(["0" * 20 + "5", "9999999999999999", "1" + "0" * 36])))
    fraction = draw(st.one_of(st.just(None), digits))
    mantissa = whole if fraction is None else f"{whole}.{fraction}"
    if mantissa in ("", "."):
        mantissa = "0"
    exponent = draw(st.one_of(st.just(""), st.integers(-1100, 1100).map(str), st.integers(-45, 45).map(str)))
    if exponent:
        sign = draw(st.sampled_from(["", "+"])) if not exponent.startswith("-") else ""
        mantissa += draw(st.sampled_from("eE")) + sign + "0" * draw(st.integers(0, 2)) + exponent.lstrip("-")
        if exponent.startswith("-"):
            mantissa = mantissa.replace("e", "e-").replace("E", "E-")
    return draw(st.sampled_from(["", "", "+", "-"])) + mantissa


timestamp_spellings = st.one_of(
    updated_at_texts,
    st.builds(
        lambda date, time, zone: f"{date}{time}{zone}",
        st.sampled_from(["2026-01-01", "2026-06-01", "2024-02-29", "0001-01-01", "9999-12-31"]),
        st.sampled_from([" 00:00", "T23:59:59", " 10:00:00.5", " 10:00:00.123456789", "T01:30:00.000001"]),
        st.sampled_from(["", "Z", "+02:00", "-05", "+0530", "+05:30:15", "-23:59", "+24:00", "+02:60"]),
    ),
)


@st.composite
def unicode_client_rows(draw: st.DrawFn) -> dict[str, str | None]:
    """A row as a spreadsheet export sends it: padded with any whitespace, any case, zoned timestamps."""
    row = draw(client_rows(st.sampled_from(["A", "B", "C", "D", "E"])))
    for column in ("client_id", "aum", "is_sfo", "investor_type", "investments"):
        value = row[column]
        if value is not None and draw(st.booleans()):
            row[column] = draw(padded(st.just(value)))
    if draw(st.booleans()):
        row["aum"] = draw(padded(amount_spellings()))
    if draw(st.integers(0, 3)) == 0:
        row[draw(st.sampled_from(["is_sfo", "investor_type"]))] = draw(padded(unicode_words))
    row["client_name"] = draw(st.one_of(st.none(), padded(st.sampled_from(["Ann", "Bo Li", "Zoë", "ＡＢ", ""]))))
    row["updated_at"] = draw(st.one_of(st.none(), padded(timestamp_spellings)))
    return row


unicode_client_tables = st.lists(unicode_client_rows(), min_size=1, max_size=30)
