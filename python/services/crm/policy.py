"""The client-prioritization policy, read from the dbt vars in dbt_project.yml: one home for every threshold."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

# Same order and names as macros/policy/policy_var_names.sql.
POLICY_VAR_NAMES = (
    "tier_1_min_aum",
    "tier_2_min_aum",
    "qp_min_investments_person",
    "qp_min_investments_entity",
)
# Same patterns as macros/policy/normalized_policy_amount.sql and validated_reject_share.sql.
POLICY_AMOUNT_PATTERN = re.compile(r"[0-9]{1,16}(\.[0-9]{1,2})?")
REJECT_SHARE_PATTERN = re.compile(r"0(\.[0-9]+)?|\.[0-9]+|1(\.0+)?")
PROJECT_DIR_ENV = "CRM_PRIORITY_PROJECT_DIR"
DBT_PROJECT_NAME = "crm_priority"


class PolicyError(ValueError):
    """The policy vars are missing or invalid; the message names the var."""


@dataclass(frozen=True)
class Policy:
    """The thresholds in force, exact, in USD (max_reject_share is a fraction)."""

    tier_1_min_aum: Decimal
    tier_2_min_aum: Decimal
    qp_min_investments_person: Decimal
    qp_min_investments_entity: Decimal
    max_reject_share: Decimal = Decimal("0.05")

    def amount(self, var_name: str) -> Decimal:
        if var_name not in POLICY_VAR_NAMES:
            raise PolicyError(f"unknown policy var {var_name!r}; expected one of {POLICY_VAR_NAMES}")
        value: Decimal = getattr(self, var_name)
        return value

    @cached_property  # scoring reads it for every row; the policy is frozen
    def version(self) -> str:
        """Fingerprint of the thresholds; macros/policy/policy_version.sql computes the same."""
        canonical = ";".join(f"{name}={self.amount(name):.2f}" for name in sorted(POLICY_VAR_NAMES))
        return "policy-" + hashlib.md5(canonical.encode("utf-8")).hexdigest()[:12]

    def as_strings(self) -> dict[str, str]:
        """The thresholds as normalised strings, as the audit log and dbt --vars want them."""
        return {name: f"{self.amount(name):.2f}" for name in POLICY_VAR_NAMES}


def normalized_policy_amount(var_name: str, raw: object) -> Decimal:
    """A positive amount with at most two decimals, or PolicyError naming the var."""
    if raw is None:
        raise PolicyError(f"Policy var {var_name!r} is not set: define it in dbt_project.yml.")
    text = str(raw).strip()
    if isinstance(raw, bool) or not POLICY_AMOUNT_PATTERN.fullmatch(text):
        raise PolicyError(
            f"Policy var {var_name!r} must be a positive USD amount with at most two decimals, "
            f'such as "5000000.00"; got {text!r}.'
        )
    value = Decimal(text).quantize(Decimal("0.01"))
    if value == 0:
        raise PolicyError(f"Policy var {var_name!r} must be a positive USD amount; got {text!r}.")
    return value


def parse_policy(dbt_vars: Mapping[str, Any]) -> Policy:
    """Validate the vars exactly as macros/policy/validated_policy.sql does."""
    amounts = {name: normalized_policy_amount(name, dbt_vars.get(name)) for name in POLICY_VAR_NAMES}
    if amounts["tier_1_min_aum"] <= amounts["tier_2_min_aum"]:
        raise PolicyError(
            f"Policy var 'tier_1_min_aum' ({amounts['tier_1_min_aum']}) must be above 'tier_2_min_aum' "
            f"({amounts['tier_2_min_aum']}): otherwise no client could be Tier 2."
        )
    share_text = str(dbt_vars.get("max_reject_share")).strip()
    if not REJECT_SHARE_PATTERN.fullmatch(share_text):
        raise PolicyError(
            f"Var 'max_reject_share' must be a share between 0 and 1, such as \"0.05\"; got {share_text!r}."
        )
    return Policy(max_reject_share=Decimal(share_text), **amounts)


def find_project_dir(start: Path | None = None) -> Path:
    """The dbt project folder: $CRM_PRIORITY_PROJECT_DIR, else the first parent holding dbt_project.yml."""
    configured = os.environ.get(PROJECT_DIR_ENV)
    if configured:
        return Path(configured).resolve()
    candidates = [Path(__file__).resolve(), (start or Path.cwd()).resolve()]
    for candidate in candidates:
        for folder in [candidate, *candidate.parents]:
            project_file = folder / "dbt_project.yml"
            if project_file.is_file() and _project_name(project_file) == DBT_PROJECT_NAME:
                return folder
    raise PolicyError(
        f"Cannot find the {DBT_PROJECT_NAME} dbt project (dbt_project.yml) to read the policy from; "
        f"set {PROJECT_DIR_ENV} to its folder."
    )


def _project_name(project_file: Path) -> object:
    with project_file.open(encoding="utf-8") as handle:
        return (yaml.safe_load(handle) or {}).get("name")


def load_policy(project_dir: Path | None = None, overrides: Mapping[str, Any] | None = None) -> Policy:
    """The policy in dbt_project.yml's vars, with `overrides` applied as dbt's --vars would.

    Raises PolicyError naming the var when a value is bad or an override is not a declared var
    (as macros/policy/validated_var_names.sql refuses it in dbt).
    """
    folder = project_dir or find_project_dir()
    with (folder / "dbt_project.yml").open(encoding="utf-8") as handle:
        project = yaml.safe_load(handle) or {}
    dbt_vars: dict[str, Any] = dict(project.get("vars") or {})
    unknown = sorted(set(overrides or {}) - set(dbt_vars))
    if unknown:
        raise PolicyError(
            f"Unknown var {unknown[0]!r} in the overrides: the project declares {', '.join(dbt_vars)} "
            "(dbt_project.yml). A misspelt policy var would be ignored, so it is refused."
        )
    dbt_vars.update(overrides or {})
    return parse_policy(dbt_vars)
