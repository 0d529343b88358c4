"""calculate_priority refuses bad arguments by name and converts good ones exactly."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.crm.client_priority import ClientInputError, PriorityScorer

SCORER = PriorityScorer()
CENT = Decimal("0.01")


@pytest.mark.parametrize(
    ("arguments", "error", "named"),
    [
        ({"aum": None}, ValueError, "aum"),
        ({"aum": -1}, ValueError, "aum"),
        ({"aum": "-0.01"}, ValueError, "aum"),
        ({"aum": math.nan}, ValueError, "aum"),
        ({"aum": math.inf}, ValueError, "aum"),
        ({"aum": -math.inf}, ValueError, "aum"),
        ({"aum": Decimal("NaN")}, ValueError, "aum"),
        ({"aum": Decimal("Infinity")}, ValueError, "aum"),
        ({"aum": "NaN"}, ValueError, "aum"),
        ({"aum": True}, TypeError, "aum"),
        ({"aum": "abc"}, ValueError, "aum"),
        ({"aum": "1,000"}, ValueError, "aum"),
        ({"aum": "1e400"}, ValueError, "aum"),
        ({"aum": [1]}, TypeError, "aum"),
        ({"aum": 1, "is_sfo": "yes"}, TypeError, "is_sfo"),
        ({"aum": 1, "is_sfo": 1}, TypeError, "is_sfo"),
        ({"aum": 1, "is_sfo": None}, TypeError, "is_sfo"),
        ({"aum": 1, "investor_type": "partnership"}, ValueError, "investor_type"),
        ({"aum": 1, "investor_type": 3}, TypeError, "investor_type"),
        ({"aum": 1, "investments": -5}, ValueError, "investments"),
        ({"aum": 1, "investments": "lots"}, ValueError, "investments"),
        ({"aum": 1, "investments": False}, TypeError, "investments"),
    ],
)
def test_a_bad_argument_raises_an_error_that_names_it(
    arguments: dict[str, object], error: type[Exception], named: str
) -> None:
    with pytest.raises(error, match=named):
        SCORER.calculate_priority(**arguments)  # type: ignore[arg-type]


def test_value_errors_carry_the_marts_reject_reason() -> None:
    with pytest.raises(ClientInputError) as raised:
        SCORER.calculate_priority(aum="-3")
    assert raised.value.reject_reason == "aum_negative"
    with pytest.raises(ClientInputError) as raised:
        SCORER.calculate_priority(aum=1, investor_type="trust")
    assert raised.value.reject_reason == "investor_type_unknown"


money = st.decimals(min_value=0, max_value=Decimal("9999999999999999.99"), places=2)


@given(amount=money)
def test_ints_decimals_and_numeric_strings_are_exact(amount: Decimal) -> None:
    assert SCORER.calculate_priority(aum=amount)["aum"] == amount
    assert SCORER.calculate_priority(aum=str(amount))["aum"] == amount
    assert SCORER.calculate_priority(aum=int(amount))["aum"] == Decimal(int(amount))


@given(value=st.floats(min_value=0, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_a_float_is_read_through_its_decimal_string_not_its_binary_value(value: float) -> None:
    expected = Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    assert SCORER.calculate_priority(aum=value)["aum"] == expected


def test_the_float_rule_matters_at_a_half_cent() -> None:
    # The binary value of 2.675 is 2.67499999...; the written "2.675" rounds up.
    binary_value = 2.675
    assert SCORER.calculate_priority(aum=binary_value)["aum"] == Decimal("2.68")
    assert Decimal(binary_value).quantize(CENT, rounding=ROUND_HALF_UP) == Decimal("2.67")


@given(text=st.text(max_size=12))
def test_any_text_is_either_scored_or_refused_with_a_value_error(text: str) -> None:
    refused: ClientInputError | None = None
    try:
        profile = SCORER.calculate_priority(aum=text)
    except ClientInputError as error:
        refused = error
    if refused is not None:
        assert refused.argument == "aum"
    else:
        assert profile["aum"] >= 0
        assert profile["aum"] == profile["aum"].quantize(CENT)


def test_numpy_scalars_are_read_as_the_values_they_hold() -> None:
    import numpy as np

    assert SCORER.calculate_priority(aum=np.float64(4999999.995))["aum"] == Decimal("5000000.00")
    assert SCORER.calculate_priority(aum=np.int64(50_000_000))["tier"] == "TIER_1_SFO"
    assert SCORER.calculate_priority(aum=np.float32(0.1))["aum"] == Decimal("0.10")
    assert SCORER.calculate_priority(aum=1, is_sfo=np.bool_(True))["tier"] == "TIER_1_SFO"
    with pytest.raises(TypeError, match="aum"):
        SCORER.calculate_priority(aum=np.bool_(True))
    with pytest.raises(ValueError, match="investments must be finite"):
        SCORER.calculate_priority(aum=1, investments=np.float64("nan"))


def test_a_huge_int_is_out_of_range_by_name() -> None:
    with pytest.raises(ClientInputError, match=r"^aum must be below") as raised:
        SCORER.calculate_priority(aum=10**5000)
    assert raised.value.reject_reason == "aum_out_of_range"


def test_blank_investments_are_unknown_as_in_the_mart() -> None:
    assert SCORER.calculate_priority(aum=1, investments="")["investments"] is None
    assert SCORER.calculate_priority(aum=1, investments="\u00a0 ")["investments"] is None
    with pytest.raises(ClientInputError, match="aum"):
        SCORER.calculate_priority(aum="\u3000")


def test_text_arguments_follow_the_marts_whitespace_and_case_rule() -> None:
    assert SCORER.calculate_priority(aum="\u00a06000000", investor_type="\u2003Entity\t")["tier"] == "TIER_2_UHNW"
    with pytest.raises(ClientInputError, match="investor_type"):
        SCORER.calculate_priority(aum=1, investor_type="ENTİTY")
