"""Writes seeds/clients.csv, the sample client table, deterministically.

The sample is a few hundred realistic clients plus, on purpose, every policy
boundary and a handful of malformed rows, so that a newcomer sees each tier,
each Qualified Purchaser rule and the rejects model populated after `make build`.
Run it again only to change the sample: `python scripts/generate_sample_clients.py`.
"""

from __future__ import annotations

import csv
import random
from decimal import Decimal
from pathlib import Path

SEED_PATH = Path(__file__).resolve().parents[1] / "seeds" / "clients.csv"
HEADER = ["client_id", "client_name", "aum", "is_sfo", "investor_type", "investments"]

FIRST_NAMES = [
    "Margaret",
    "James",
    "Priya",
    "Hiroshi",
    "Elena",
    "Samuel",
    "Amara",
    "Lucas",
    "Ingrid",
    "Rafael",
    "Chloe",
    "Omar",
    "Sofia",
    "Daniel",
    "Mei",
    "Henrik",
    "Aisha",
    "Thomas",
    "Valentina",
    "George",
    "Naomi",
    "Arjun",
    "Clara",
    "Mateo",
    "Yuki",
    "Patrick",
    "Leila",
]
LAST_NAMES = [
    "Chen",
    "Whitaker",
    "Raman",
    "Tanaka",
    "Rossi",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Haddad",
    "Fischer",
    "Alvarez",
    "Kowalski",
    "Nakamura",
    "Brennan",
    "Sato",
    "Dubois",
    "Castillo",
    "Osei",
    "Hartmann",
    "Iyer",
    "Novak",
    "Sinclair",
    "Abernathy",
    "Vance",
]
FAMILIES = [
    "Harrington",
    "Ashcombe",
    "Delacroix",
    "Van Meer",
    "Castellane",
    "Okonkwo",
    "Sterling",
    "Montague",
    "Halvorsen",
    "Albrecht",
    "Whitcombe",
    "Ravensworth",
]
ENTITY_KINDS = [
    "Pension Trust",
    "Endowment",
    "Foundation",
    "Capital Partners LP",
    "Insurance Co.",
    "Holdings LLC",
    "Sovereign Reserve Fund",
    "University Endowment",
]


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def boundary_rows() -> list[list[str]]:
    """Every edge of the policy, on purpose (ids B001...)."""
    rows = [
        # Tier boundaries, inclusive, and one cent either side.
        ["Tier boundary exactly $50M", "50000000.00", "false", "individual", ""],
        ["Tier boundary one cent under $50M", "49999999.99", "false", "individual", ""],
        ["Tier boundary one cent over $50M", "50000000.01", "false", "individual", ""],
        ["Tier boundary exactly $5M", "5000000.00", "false", "individual", ""],
        ["Tier boundary one cent under $5M", "4999999.99", "false", "individual", ""],
        ["Tier boundary one cent over $5M", "5000000.01", "false", "individual", ""],
        ["Zero AUM", "0", "false", "individual", ""],
        ["One cent AUM", "0.01", "", "", ""],
        # SFO is Tier 1 whatever its AUM.
        ["Small Single Family Office", "250000.00", "true", "family_company", ""],
        ["SFO with no AUM yet", "0.00", "yes", "", ""],
        ["SFO recorded as an entity", "1500000.00", "TRUE", "entity", "6000000.00"],
        # Qualified Purchaser boundaries per category.
        ["QP person exactly $5M investments", "1000000.00", "false", "individual", "5000000.00"],
        ["QP person one cent short", "1000000.00", "false", "individual", "4999999.99"],
        ["QP family company exactly $5M", "5000000.00", "false", "family_company", ""],
        ["QP entity exactly $25M", "25000000.00", "false", "entity", ""],
        ["QP entity one cent short", "24999999.99", "false", "entity", ""],
        ["QP entity via investments", "10000000.00", "false", "entity", "25000000.00"],
        ["Investments below AUM (AUM is tested)", "30000000.00", "false", "entity", "12000000.00"],
        # Formats the feed really sends.
        ["Sub-cent rounds up to $5M", "4999999.995", "false", "individual", ""],
        ["Sub-cent rounds down below $5M", "4999999.994", "false", "individual", ""],
        ["Scientific notation $50M", "5e7", "no", "individual", ""],
        ["Padded values", "  7500000.00 ", " N ", " Entity ", " 26000000 "],
        ["Capitalised family company", "6200000.00", "0", "Family_Company", ""],
    ]
    return [[f"B{index:03d}", *row] for index, row in enumerate(rows, start=1)]


def malformed_rows() -> list[list[str]]:
    """Rows the mart must quarantine in client_priority_rejects, never drop."""
    return [
        ["", "Export row with no client id", "1200000.00", "false", "individual", ""],
        ["X001", "AUM not a number", "abc", "false", "individual", ""],
        ["X002", "Negative AUM", "-2500.00", "false", "individual", ""],
        ["X003", "AUM overflow", "1e400", "false", "entity", ""],
        ["X004", "AUM NaN", "NaN", "false", "individual", ""],
        ["X005", "Negative investments", "800000.00", "false", "individual", "-5"],
        ["X006", "Unreadable SFO flag", "3000000.00", "maybe", "family_company", ""],
        ["X007", "Unknown investor type", "9000000.00", "false", "partnership", ""],
        ["X008", "Duplicated client (first copy)", "4100000.00", "false", "individual", ""],
        ["X008", "Duplicated client (second copy)", "4150000.00", "false", "individual", ""],
    ]


def realistic_rows(rng: random.Random, count: int) -> list[list[str]]:
    rows = []
    for index in range(1, count + 1):
        roll = rng.random()
        if roll < 0.06:
            name = f"{rng.choice(FAMILIES)} Family Office"
            is_sfo, investor_type = "true", "family_company"
            aum = Decimal(int(rng.lognormvariate(17.6, 1.0) * 100)) / 100
        elif roll < 0.20:
            name = f"{rng.choice(LAST_NAMES)} {rng.choice(ENTITY_KINDS)}"
            is_sfo, investor_type = "false", "entity"
            aum = Decimal(int(rng.lognormvariate(16.8, 1.3) * 100)) / 100
        elif roll < 0.30:
            name = f"{rng.choice(LAST_NAMES)} Family Holdings"
            is_sfo, investor_type = "false", "family_company"
            aum = Decimal(int(rng.lognormvariate(15.8, 1.1) * 100)) / 100
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            is_sfo, investor_type = rng.choice(["false", "false", ""]), rng.choice(["individual", "individual", ""])
            aum = Decimal(int(rng.lognormvariate(14.2, 1.4) * 100)) / 100
        investments = ""
        if rng.random() < 0.35:
            # Total investments are usually above what we manage (money held elsewhere).
            investments = money(aum * Decimal(str(round(rng.uniform(0.8, 3.5), 2))))
        rows.append([f"C{index:04d}", name, money(aum), is_sfo, investor_type, investments])
    return rows


def main() -> None:
    rng = random.Random(20261124)
    rows = realistic_rows(rng, 280) + boundary_rows() + malformed_rows()
    SEED_PATH.parent.mkdir(parents=True, exist_ok=True)
    with SEED_PATH.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"wrote {len(rows)} clients to {SEED_PATH}")


if __name__ == "__main__":
    main()
