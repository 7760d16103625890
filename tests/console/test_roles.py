"""The console's two logins on a real warehouse: the analyst reader sees only dws/ads/console, and the
write role may insert into its own two tables, with who and when filled by the database, and nothing else."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from ops.console.data import operator, reader
from ops.console.writes import mark_contacted, set_appeal_status
from ops.settings import Settings
from storage.console_schema import OPERATOR_ROLE
from storage.warehouse import connect

READABLE = {"dws", "ads", "console"}
FORBIDDEN_READS = [
    "select * from dwd.order_item limit 1",
    "select * from dwd.review limit 1",
    "select * from ops.run_log limit 1",
]


def other_schemas(settings: Settings) -> list[str]:
    """Every schema of the warehouse the console must not reach (dwd, ops, ml, and any ods). ``public``
    stays usable by every login (Postgres' default), but holds nothing and grants no CREATE."""
    with connect(settings) as conn:
        names = conn.execute(
            "select nspname from pg_namespace"
            " where nspname not like 'pg\\_%' and nspname <> 'information_schema'"
        ).fetchall()
    return sorted({n[0] for n in names} - READABLE - {"public"})


def test_reader_reaches_only_dws_ads_and_console(world: Settings) -> None:
    assert {"dwd", "ops", "ml"} <= set(other_schemas(world))
    with reader(world) as conn:
        for schema in other_schemas(world):
            assert not conn.execute("select has_schema_privilege(%s, 'usage')", (schema,)).fetchone()[0], (
                schema
            )
        for query in FORBIDDEN_READS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(query)
        assert conn.execute("select count(*) from console.contact_marks").fetchone()[0] >= 0


@pytest.mark.parametrize(
    "statement",
    [
        *FORBIDDEN_READS,
        "select * from ads.ads_customer_value limit 1",
        "select * from dws.dws_shop_daily limit 1",
        "select * from console.contact_marks",
        "insert into ads.ads_customer_value (customer_key) values ('x')",
        "insert into dwd.order_item (order_item_id) values ('x')",
        "insert into ops.run_log (step, entity, ds) values ('x', 'x', '2025-08-21')",
        "update console.appeal_status set status = 'won'",
        "delete from console.contact_marks",
        "truncate console.contact_marks",
        "create table console.mine (x int)",
        "create table public.mine (x int)",
        # who and when are the database's to fill in
        "insert into console.contact_marks (customer_key, marketplace, list_ds, operator_name, recorded_by)"
        " values ('c', 'US', '2025-08-21', 'eve', 'someone else')",
        "insert into console.appeal_status (appeal_id, status, payload, operator_name, recorded_at)"
        " values ('a', 'won', '{}', 'eve', '2020-01-01')",
    ],
)
def test_operator_may_do_nothing_else(world: Settings, statement: str) -> None:
    with operator(world) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_operator_schemas(world: Settings) -> None:
    with operator(world) as conn:
        assert conn.execute("select current_user").fetchone()[0] == OPERATOR_ROLE
        for schema in [*other_schemas(world), "dws", "ads"]:
            assert not conn.execute("select has_schema_privilege(%s, 'usage')", (schema,)).fetchone()[0], (
                schema
            )


def test_every_write_records_who_and_when(world: Settings) -> None:
    day = date(2025, 8, 21)
    assert mark_contacted(world, [("role-test-1", "US"), ("role-test-2", "UK")], day, "ana", "") == 2
    set_appeal_status(world, "SHOP-X:2025-08-21", "submitted", {"shop_id": "SHOP-X"}, "ana")
    with pytest.raises(ValueError, match="not one of"):
        set_appeal_status(world, "SHOP-X:2025-08-21", "pending", {}, "ana")
    with connect(world) as conn:
        marks = conn.execute(
            "select customer_key, operator_name, note, recorded_by, now() - recorded_at < interval '1 minute'"
            " from console.contact_marks where customer_key like 'role-test-%' order by 1"
        ).fetchall()
        status = conn.execute(
            "select status, payload, recorded_by from console.appeal_status"
            " where appeal_id = 'SHOP-X:2025-08-21'"
        ).fetchall()
    assert marks == [
        ("role-test-1", "ana", None, OPERATOR_ROLE, True),
        ("role-test-2", "ana", None, OPERATOR_ROLE, True),
    ]
    assert status == [("submitted", {"shop_id": "SHOP-X"}, OPERATOR_ROLE)]
    with operator(world) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "insert into console.contact_marks (customer_key, marketplace, list_ds, operator_name)"
            " values ('c', 'US', '2025-08-21', '')"
        )
