"""On PostgreSQL the BI role reads the marts the dashboards use, and nothing upstream of them."""

from __future__ import annotations

from typing import Any

import pytest

from services.crm.dbt_invocation import DbtCommandError

from .conftest import MartFactory
from .engines import Mart, PostgresMart, relation, source_relation

pytestmark = pytest.mark.postgres

BI_MARTS = ("client_priority", "aum_distribution", "allocation_queue", "client_eligibility", "client_tier_changes")


def as_role(mart: Mart, role: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg2

    assert isinstance(mart, PostgresMart)
    connection = mart.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"set role {role}")
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]
    except psycopg2.errors.InsufficientPrivilege as error:
        raise PermissionError(str(error)) from error
    finally:
        connection.close()


def test_the_bi_role_reads_every_dashboard_mart(marts: MartFactory) -> None:
    mart = marts.sample("postgres")
    for model in BI_MARTS:
        as_bi_reader = as_role(mart, "bi_reader", f"select count(*) from {relation(mart, model)}")
        assert as_bi_reader == mart.query(f"select count(*) from {relation(mart, model)}"), model
    (clients,) = as_role(mart, "bi_reader", f"select count(*) from {relation(mart, 'client_priority')}")[0]
    assert clients > 0


@pytest.mark.parametrize(
    "upstream", ["source", "client_priority_rejects", "stg_crm__clients", "int_clients__validated"]
)
def test_the_bi_role_cannot_read_the_source_the_rejects_or_the_staging_layers(
    marts: MartFactory, upstream: str
) -> None:
    mart = marts.sample("postgres")
    table = source_relation(mart) if upstream == "source" else relation(mart, upstream)
    assert mart.query(f"select count(*) from {table}")[0][0] > 0
    with pytest.raises(PermissionError, match="permission denied"):
        as_role(mart, "bi_reader", f"select count(*) from {table}")


def test_the_bi_role_name_comes_from_a_var(marts: MartFactory) -> None:
    mart = marts.new("postgres")
    mart.run(["seed", "--select", "clients"])
    mart.run(["run", "--select", "+client_priority"], {"bi_role": "dashboards_ro"})
    assert as_role(mart, "dashboards_ro", f"select count(*) from {relation(mart, 'client_priority')}")[0][0] > 0


def test_a_bi_role_that_is_not_an_identifier_fails_before_any_sql_runs(marts: MartFactory) -> None:
    mart = marts.new("postgres")
    with pytest.raises(DbtCommandError, match="bi_role"):
        mart.run(["run", "--select", "client_priority"], {"bi_role": "bi; drop table x"})
