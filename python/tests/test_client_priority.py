"""PriorityScorer, rule by rule: each test is one sentence of the policy."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from services.crm.client_priority import PriorityScorer, usd_short
from services.crm.policy import load_policy

POLICY = load_policy()
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def scorer() -> PriorityScorer:
    return PriorityScorer()


def test_the_documented_usage_example_runs_verbatim_from_any_folder(tmp_path: Path) -> None:
    example = (
        "from services.crm.client_priority import PriorityScorer\n"
        "profile = PriorityScorer().calculate_priority(aum=120_000_000, is_sfo=True)\n"
        "print(profile['tier'], profile['is_qualified_purchaser'])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert completed.stdout.split() == ["TIER_1_SFO", "True"]


def test_a_single_family_office_is_tier_1_whatever_its_aum(scorer: PriorityScorer) -> None:
    profile = scorer.calculate_priority(aum=0, is_sfo=True)
    assert (profile["tier"], profile["priority"], profile["tier_reason"]) == ("TIER_1_SFO", 1, "single_family_office")


def test_aum_at_the_tier_1_threshold_is_tier_1(scorer: PriorityScorer) -> None:
    assert scorer.calculate_priority(aum=POLICY.tier_1_min_aum)["tier"] == "TIER_1_SFO"
    assert scorer.calculate_priority(aum=POLICY.tier_1_min_aum - CENT)["tier"] == "TIER_2_UHNW"


def test_aum_at_the_tier_2_threshold_is_tier_2(scorer: PriorityScorer) -> None:
    assert scorer.calculate_priority(aum=POLICY.tier_2_min_aum)["tier"] == "TIER_2_UHNW"
    assert scorer.calculate_priority(aum=POLICY.tier_2_min_aum - CENT)["tier"] == "TIER_3_RETAIL"


def test_priority_follows_the_tier(scorer: PriorityScorer) -> None:
    priorities = {
        scorer.calculate_priority(aum=aum)["tier"]: scorer.calculate_priority(aum=aum)["priority"]
        for aum in (POLICY.tier_1_min_aum, POLICY.tier_2_min_aum, Decimal(0))
    }
    assert priorities == {"TIER_1_SFO": 1, "TIER_2_UHNW": 2, "TIER_3_RETAIL": 3}


def test_a_person_qualifies_at_the_person_minimum(scorer: PriorityScorer) -> None:
    at = scorer.calculate_priority(aum=1, investments=POLICY.qp_min_investments_person)
    below = scorer.calculate_priority(aum=1, investments=POLICY.qp_min_investments_person - CENT)
    assert (at["is_qualified_purchaser"], at["qp_basis"]) == (True, "natural_person")
    assert (below["is_qualified_purchaser"], below["qp_basis"]) == (False, None)


def test_a_family_company_qualifies_at_the_person_minimum(scorer: PriorityScorer) -> None:
    profile = scorer.calculate_priority(aum=POLICY.qp_min_investments_person, investor_type="family_company")
    assert (profile["is_qualified_purchaser"], profile["qp_basis"]) == (True, "family_company")


def test_an_entity_needs_the_entity_minimum(scorer: PriorityScorer) -> None:
    below = scorer.calculate_priority(aum=POLICY.qp_min_investments_entity - CENT, investor_type="entity")
    at = scorer.calculate_priority(aum=POLICY.qp_min_investments_entity, investor_type="entity")
    assert (below["is_qualified_purchaser"], at["is_qualified_purchaser"], at["qp_basis"]) == (False, True, "entity")


def test_an_sfo_counts_as_a_family_company_even_when_recorded_as_an_entity(scorer: PriorityScorer) -> None:
    profile = scorer.calculate_priority(aum=POLICY.qp_min_investments_person, is_sfo=True, investor_type="entity")
    assert profile["qp_threshold"] == POLICY.qp_min_investments_person
    assert profile["qp_basis"] == "sfo_as_family_company"


def test_the_amount_tested_is_the_larger_of_aum_and_investments(scorer: PriorityScorer) -> None:
    assert scorer.calculate_priority(aum=10, investments=20)["qp_amount_tested"] == Decimal(20)
    assert scorer.calculate_priority(aum=20, investments=10)["qp_amount_tested"] == Decimal(20)
    assert scorer.calculate_priority(aum=20)["qp_amount_tested"] == Decimal(20)


def test_sub_cent_amounts_round_half_away_from_zero_before_any_threshold(scorer: PriorityScorer) -> None:
    assert scorer.calculate_priority(aum="4999999.995")["aum"] == Decimal("5000000.00")
    assert scorer.calculate_priority(aum="4999999.995")["tier"] == "TIER_2_UHNW"
    assert scorer.calculate_priority(aum="4999999.994")["tier"] == "TIER_3_RETAIL"


def test_blank_investor_type_means_individual(scorer: PriorityScorer) -> None:
    assert scorer.calculate_priority(aum=1, investor_type=None)["investor_type"] == "individual"
    assert scorer.calculate_priority(aum=1, investor_type="  ")["investor_type"] == "individual"
    assert scorer.calculate_priority(aum=1, investor_type=" Entity ")["investor_type"] == "entity"


def test_tier_labels_show_the_thresholds_in_force(scorer: PriorityScorer) -> None:
    assert scorer.calculate_priority(aum=0, is_sfo=True)["tier_label"] == "Tier 1 — Single Family Office / $50M+"
    assert scorer.calculate_priority(aum=0)["tier_label"] == "Tier 3 — Retail / under $5M"


@pytest.mark.parametrize(
    ("amount", "written"),
    [("50000000", "$50M"), ("2500000", "$2.5M"), ("2050000", "$2.05M"), ("750000", "$750K"), ("1234.56", "$1,234.56")],
)
def test_usd_short_writes_amounts_for_people(amount: str, written: str) -> None:
    assert usd_short(Decimal(amount)) == written


def test_each_decision_is_logged_as_a_parseable_audit_event(
    scorer: PriorityScorer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="services.crm.client_priority.audit"):
        scorer.calculate_priority(aum="60000000", investor_type="entity", client_id="C42")
    [record] = caplog.records
    event = json.loads(record.getMessage())
    assert event["event"] == "client_priority_scored"
    assert event["client_id"] == "C42"
    assert event["inputs"]["aum"] == "60000000.00"
    assert (event["tier"], event["tier_reason"], event["qp_basis"]) == (
        "TIER_1_SFO",
        "aum_at_least_tier_1_min",
        "entity",
    )
    assert event["policy"]["tier_1_min_aum"] == "50000000.00"
    assert event["policy_version"] == POLICY.version


def test_scoring_is_silent_by_default(tmp_path: Path) -> None:
    script = "from services.crm.client_priority import PriorityScorer\nPriorityScorer().calculate_priority(aum=1)\n"
    completed = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert completed.stdout == completed.stderr == ""
