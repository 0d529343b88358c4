"""The policy: one home (the dbt vars), the documented values, and validation on both sides."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from services.crm.dbt_invocation import DbtCommandError
from services.crm.policy import POLICY_VAR_NAMES, PolicyError, find_project_dir, load_policy, parse_policy

from .engines import DuckDBMart

DOCUMENTED = {
    "tier_1_min_aum": Decimal("50000000.00"),
    "tier_2_min_aum": Decimal("5000000.00"),
    "qp_min_investments_person": Decimal("5000000.00"),
    "qp_min_investments_entity": Decimal("25000000.00"),
}


def test_thresholds_are_the_documented_values() -> None:
    policy = load_policy()
    assert {name: policy.amount(name) for name in POLICY_VAR_NAMES} == DOCUMENTED
    assert policy.max_reject_share == Decimal("0.05")


def test_thresholds_are_written_as_exact_strings_not_floats() -> None:
    project = yaml.safe_load((find_project_dir() / "dbt_project.yml").read_text(encoding="utf-8"))
    for name in POLICY_VAR_NAMES:
        assert isinstance(project["vars"][name], str), f"{name} must be a quoted decimal string"


def test_python_reads_the_same_file_dbt_reads(tmp_path: Path) -> None:
    project = yaml.safe_load((find_project_dir() / "dbt_project.yml").read_text(encoding="utf-8"))
    project["vars"]["tier_2_min_aum"] = "7000000"
    (tmp_path / "dbt_project.yml").write_text(yaml.safe_dump(project), encoding="utf-8")
    assert load_policy(tmp_path).tier_2_min_aum == Decimal("7000000.00")


def test_policy_version_matches_the_mart(sample_mart: DuckDBMart) -> None:
    versions = sample_mart.query("select distinct policy_version from main.client_priority")
    assert versions == [(load_policy().version,)]


def test_policy_version_changes_with_any_threshold() -> None:
    base = load_policy()
    for name in POLICY_VAR_NAMES:
        changed = load_policy(overrides={name: str(base.amount(name) + Decimal("0.01"))})
        assert changed.version != base.version, name


BAD_VALUES = [
    ("tier_1_min_aum", "1; drop table x"),
    ("tier_1_min_aum", "-5"),
    ("tier_2_min_aum", "0"),
    ("qp_min_investments_person", "abc"),
    ("qp_min_investments_entity", "1e7"),
    ("tier_2_min_aum", "5000000.001"),
    ("tier_1_min_aum", True),
    ("tier_1_min_aum", None),
]


@pytest.mark.parametrize(("var_name", "value"), BAD_VALUES)
def test_python_rejects_a_bad_threshold_naming_the_var(var_name: str, value: object) -> None:
    with pytest.raises(PolicyError, match=var_name):
        load_policy(overrides={var_name: value})


def test_tier_1_must_be_above_tier_2() -> None:
    with pytest.raises(PolicyError, match="tier_1_min_aum"):
        load_policy(overrides={"tier_1_min_aum": "5000000", "tier_2_min_aum": "5000000"})


def test_reject_share_must_be_a_share() -> None:
    with pytest.raises(PolicyError, match="max_reject_share"):
        load_policy(overrides={"max_reject_share": "1.5"})


def test_unquoted_yaml_numbers_are_read_exactly() -> None:
    policy = parse_policy(
        {
            "tier_1_min_aum": 50000000,
            "tier_2_min_aum": 5000000.5,
            "qp_min_investments_person": "5000000",
            "qp_min_investments_entity": "25000000.00",
            "max_reject_share": "0.05",
        }
    )
    assert policy.tier_2_min_aum == Decimal("5000000.50")


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"tier_1_min_aum": "1; drop table x"}, "tier_1_min_aum"),
        ({"qp_min_investments_entity": "-25000000"}, "qp_min_investments_entity"),
        ({"tier_1_min_aum": "4000000"}, "tier_1_min_aum"),
        ({"max_reject_share": "lots"}, "max_reject_share"),
    ],
)
def test_dbt_fails_before_any_sql_on_a_bad_var(empty_mart: DuckDBMart, overrides: dict[str, str], named: str) -> None:
    with pytest.raises(DbtCommandError, match=named):
        empty_mart.run(["build"], overrides)
    # Nothing ran: not even the seed reached the database.
    assert not empty_mart.db_path.exists() or not empty_mart.query(
        "select * from information_schema.tables where table_name in ('clients', 'client_priority')"
    )
