"""The dbt project against a real Postgres, through ops.dbt_runner, on a small hand-made DWD order set.

Each dbt invocation costs seconds (parse + build), so the module shares one full build and then runs
a handful of targeted ones: an incremental day, a rerun of an earlier day, a failing data test, a
stale-source freshness check and an unreachable warehouse. It uses its own database so other suites'
DWD rows cannot leak in.
"""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest

from ops.dbt_runner import DbtRunError, DbtRunResult, build_day_range, dbt_env, run_dbt
from ops.settings import Settings
from storage.warehouse import connect
from tests.conftest import OwnWarehouse
from tests.dbt.conftest import assert_marts_match_pinned

CURRENCY = {"US": "USD", "DE": "EUR", "JP": "JPY"}
MARKETPLACE_ID = {"US": "ATVPDKIKX0DER", "DE": "A1PA6795UKMFR9", "JP": "A1VC38T7YXB528"}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Item:
    order_item_id: str
    order_id: str
    marketplace: str
    ds: date
    quantity: int
    unit_price: str
    order_status: str

    @property
    def item_amount(self) -> Decimal:
        return Decimal(self.unit_price) * self.quantity


def _items(ds: date, *rows: tuple[str, str, str, int, str, str]) -> list[Item]:
    return [Item(*row[:3], ds, *row[3:]) for row in rows]


NOV1, NOV2, NOV3, NOV4 = (date(2025, 11, day) for day in (1, 2, 3, 4))
INITIAL = [
    # US: a two-item order, a fully cancelled order and a partly cancelled one (AOV 49.99 / 2 rounds up)
    *_items(
        NOV1,
        ("us-1001-a", "us-1001", "US", 2, "12.50", "delivered"),
        ("us-1001-b", "us-1001", "US", 1, "9.99", "delivered"),
        ("us-1002-a", "us-1002", "US", 1, "49.00", "cancelled"),
        ("us-1003-a", "us-1003", "US", 1, "15.00", "shipped"),
        ("us-1003-b", "us-1003", "US", 3, "4.25", "cancelled"),
        ("de-2001-a", "de-2001", "DE", 1, "19.90", "paid"),
        ("de-2002-a", "de-2002", "DE", 2, "7.45", "completed"),
        ("jp-3001-a", "jp-3001", "JP", 1, "1980.00", "delivered"),
    ),
    *_items(
        NOV2,
        ("us-1004-a", "us-1004", "US", 4, "3.33", "pending"),
        ("us-1005-a", "us-1005", "US", 1, "120.00", "delivered"),
        # DE's only order that day is cancelled: zero GMV, null AOV, one cancelled order
        ("de-2003-a", "de-2003", "DE", 1, "59.00", "cancelled"),
    ),
    *_items(
        NOV3,
        ("us-1006-a", "us-1006", "US", 1, "10.01", "shipped"),
        ("jp-3002-a", "jp-3002", "JP", 2, "500.00", "delivered"),
        ("jp-3003-a", "jp-3003", "JP", 1, "250.00", "after_sale"),
    ),
]
NEXT_DAY = _items(
    NOV4,
    ("us-1007-a", "us-1007", "US", 2, "30.00", "paid"),
    ("jp-3004-a", "jp-3004", "JP", 1, "700.00", "paid"),
)


def expected_daily(items: list[Item]) -> dict[tuple[str, date], dict[str, object]]:
    """DWS figures computed independently in Python from the item list."""
    out: dict[tuple[str, date], dict[str, object]] = {}
    for key in sorted({(item.marketplace, item.ds) for item in items}):
        day = [item for item in items if (item.marketplace, item.ds) == key]
        live = [item for item in day if item.order_status != "cancelled"]
        live_orders = {item.order_id for item in live}
        gmv = sum((item.item_amount for item in live), Decimal("0")).quantize(CENT)
        out[key] = {
            "gmv": gmv,
            "orders": len(live_orders),
            "units": sum(item.quantity for item in live),
            "aov": (gmv / len(live_orders)).quantize(CENT, ROUND_HALF_UP) if live_orders else None,
            "cancelled_orders": len({item.order_id for item in day} - live_orders),
            "currency": CURRENCY[key[0]],
        }
    return out


def insert_items(settings: Settings, items: list[Item]) -> None:
    rows = []
    for item in items:
        purchased_at = datetime(item.ds.year, item.ds.month, item.ds.day, 10, tzinfo=UTC)
        rows.append(
            (
                item.order_item_id,
                item.order_id,
                MARKETPLACE_ID[item.marketplace],
                item.marketplace,
                "Amazon." + item.marketplace.lower(),
                hashlib.sha256(item.order_id.encode()).hexdigest(),
                f"ASIN{item.order_item_id[:7].upper().replace('-', '')}",
                item.quantity,
                Decimal(item.unit_price),
                item.item_amount,
                CURRENCY[item.marketplace],
                item.order_status.upper(),
                item.order_status,
                purchased_at,
                purchased_at + timedelta(hours=1),
                item.ds,
            )
        )
    with connect(settings) as conn, conn.cursor() as cur:
        cur.executemany(
            """
            insert into dwd.order_item (
                order_item_id, order_id, marketplace_id, marketplace, sales_channel, customer_key, asin,
                quantity, unit_price, item_amount, currency, channel_status, order_status,
                purchased_at, updated_at, ds
            ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            rows,
        )


def fetch_daily(settings: Settings) -> dict[tuple[str, date], dict[str, object]]:
    with connect(settings) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("select * from dws.dws_marketplace_daily")
        return {(row["marketplace"], row["ds"]): row for row in cur.fetchall()}


def sql_gmv_by_day(settings: Settings) -> dict[tuple[str, date], Decimal]:
    """GMV straight from DWD, the reference the DWS model must match to the cent."""
    with connect(settings) as conn:
        rows = conn.execute(
            """
            select marketplace, ds, coalesce(sum(item_amount) filter (where order_status <> 'cancelled'), 0)
            from dwd.order_item group by marketplace, ds
            """
        ).fetchall()
    return {(mp, ds): gmv for mp, ds, gmv in rows}


@pytest.fixture(scope="module")
def wh(own_warehouse: OwnWarehouse) -> Settings:
    """A database of this module's own holding the hand-made order items (no other DWD table yet)."""
    own = own_warehouse("mercator_dbt_tests", dwd_tables=["order_item"])
    insert_items(own, INITIAL)
    return own


@pytest.fixture(scope="module")
def first_build(wh: Settings) -> DbtRunResult:
    return run_dbt(wh, ["build", "--full-refresh"])


def test_build_matches_dwd_to_the_cent(wh: Settings, first_build: DbtRunResult) -> None:
    assert first_build.success
    assert not first_build.failed
    expected = expected_daily(INITIAL)
    actual = fetch_daily(wh)
    assert set(actual) == set(expected)
    assert first_build.node("dws_marketplace_daily", "model").rows_affected == len(expected)
    for key, sql_gmv in sql_gmv_by_day(wh).items():
        assert actual[key]["gmv"] == sql_gmv, key
    for key, figures in expected.items():
        assert {name: actual[key][name] for name in figures} == figures, key
    # spot checks of the edge cases, spelled out
    assert actual[("US", NOV1)]["aov"] == Decimal("25.00")  # 49.99 / 2 rounds half up
    assert actual[("DE", NOV2)]["aov"] is None
    assert actual[("DE", NOV2)]["cancelled_orders"] == 1

    # the unit tests, data tests and the reconciliation test all ran and passed
    by_type = {node.resource_type for node in first_build.nodes}
    assert {"model", "test", "unit_test"} <= by_type
    assert first_build.node("ads_trend_zero_fill_and_week_over_week").status == "pass"
    assert first_build.node("assert_dws_marketplace_daily_reconciles_with_staging").status == "pass"
    assert not [w for w in first_build.warnings if "Deprecation" in w], first_build.warnings


def test_marts_are_as_pinned(wh: Settings, first_build: DbtRunResult) -> None:
    assert_marts_match_pinned(wh, "orders")


def test_ads_trend_fills_days_without_sales(wh: Settings, first_build: DbtRunResult) -> None:
    assert first_build.node("ads_marketplace_sales_trend").status == "success"
    with connect(wh) as conn:
        rows = conn.execute(
            "select marketplace, ds, gmv, orders, aov, gmv_7d_avg, has_full_7d_window"
            " from ads.ads_marketplace_sales_trend where marketplace = 'JP' order by ds"
        ).fetchall()
    assert rows == [
        ("JP", NOV1, Decimal("1980.00"), 1, Decimal("1980.00"), Decimal("1980.00"), False),
        ("JP", NOV2, Decimal("0.00"), 0, None, Decimal("990.00"), False),
        ("JP", NOV3, Decimal("1250.00"), 2, Decimal("625.00"), Decimal("1076.67"), False),
    ]


def test_incremental_run_rebuilds_only_its_window(wh: Settings, first_build: DbtRunResult) -> None:
    before = fetch_daily(wh)
    # a late change to an old day, and the next day's orders
    with connect(wh) as conn:
        conn.execute("update dwd.order_item set item_amount = 19.99 where order_item_id = 'us-1001-b'")
    insert_items(wh, NEXT_DAY)

    result = build_day_range(wh, NOV4, NOV4)

    assert result.node("dws_marketplace_daily", "model").rows_affected == 2  # US and JP on Nov 4
    after = fetch_daily(wh)
    expected_nov4 = expected_daily(NEXT_DAY)
    for key, figures in expected_nov4.items():
        assert {name: after[key][name] for name in figures} == figures, key
    # earlier days untouched: same values (the Nov 1 change did NOT propagate) and not even rewritten
    assert set(after) == set(before) | set(expected_nov4)
    for key, row in before.items():
        assert after[key] == row, key
    assert after[("US", NOV1)]["gmv"] == Decimal("49.99")

    # rerunning Nov 1 picks the change up and leaves the other days alone
    rerun = build_day_range(wh, NOV1, NOV1)
    assert rerun.node("dws_marketplace_daily", "model").rows_affected == 3  # US, DE, JP on Nov 1
    final = fetch_daily(wh)
    assert final[("US", NOV1)]["gmv"] == Decimal("59.99") == sql_gmv_by_day(wh)[("US", NOV1)]
    assert final[("US", NOV1)]["processed_at"] > after[("US", NOV1)]["processed_at"]
    for key in set(after) - {k for k in after if k[1] == NOV1}:
        assert final[key] == after[key], key
    with connect(wh) as conn:
        ads_gmv = conn.execute(
            "select gmv from ads.ads_marketplace_sales_trend where marketplace = 'US' and ds = %s", (NOV1,)
        ).fetchone()[0]
    assert ads_gmv == Decimal("59.99")


def test_analyst_reads_marts_but_not_dwd(wh: Settings, first_build: DbtRunResult) -> None:
    with connect(wh, autocommit=True) as conn:
        conn.execute("set role analyst")
        assert conn.execute("select count(*) from ads.ads_marketplace_sales_trend").fetchone()[0] > 0
        assert conn.execute("select count(*) from dws.dws_marketplace_daily").fetchone()[0] > 0
        for relation in ("dwd.order_item", "dwd.stg_orders__order_items"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {relation} limit 1")


def test_failing_data_test_names_the_test(wh: Settings, first_build: DbtRunResult) -> None:
    bad_day = date(2025, 11, 20)
    # a refund mis-loaded as a live item with a negative amount makes that day's GMV negative
    insert_items(wh, _items(bad_day, ("de-2999-a", "de-2999", "DE", 1, "-5.00", "delivered")))
    try:
        with pytest.raises(DbtRunError) as caught:
            build_day_range(wh, bad_day, bad_day)
    finally:
        with connect(wh) as conn:
            conn.execute("delete from dwd.order_item where ds = %s", (bad_day,))
            conn.execute("delete from dws.dws_marketplace_daily where ds = %s", (bad_day,))
    error = caught.value
    assert "non_negative_dws_marketplace_daily_gmv" in str(error)
    assert "Got 1 result" in str(error)
    assert "non_negative_dws_marketplace_daily_gmv" in {node.name for node in error.failed_nodes}
    assert error.result is not None
    # the mart downstream of the failed test is not rebuilt from bad data
    assert error.result.node("ads_marketplace_sales_trend").status == "skipped"


def test_a_daily_run_tests_only_the_days_it_rebuilt(wh: Settings, first_build: DbtRunResult) -> None:
    """DWS generic tests see the run's window (dbt_project.yml `data_tests: +where`), so a daily
    build's test time does not grow with history; a build without a window tests every row."""
    select = ["test", "--select", "dws_marketplace_daily", "--exclude", "test_type:singular"]
    with connect(wh) as conn:
        conn.execute(
            "update dws.dws_marketplace_daily set gmv = -1 where ds = %s and marketplace = 'US'", (NOV1,)
        )
    try:
        windowed = run_dbt(wh, select, ds_start=NOV3, ds_end=NOV3)
        with pytest.raises(DbtRunError) as caught:
            run_dbt(wh, select)
    finally:
        with connect(wh) as conn:
            conn.execute(
                "update dws.dws_marketplace_daily set gmv = %s where ds = %s and marketplace = 'US'",
                (sql_gmv_by_day(wh)[("US", NOV1)], NOV1),
            )
    assert windowed.node("non_negative_dws_marketplace_daily_gmv").status == "pass"
    assert "non_negative_dws_marketplace_daily_gmv" in {n.name for n in caught.value.failed_nodes}


def test_freshness_check_stops_before_building_on_stale_dwd(wh: Settings, first_build: DbtRunResult) -> None:
    before = fetch_daily(wh)
    with pytest.raises(DbtRunError) as caught:
        build_day_range(wh, NOV3, NOV3, check_freshness=True)  # the demo data is a year old
    assert "dwd.order_item" in str(caught.value)
    assert "error after 72 hours" in str(caught.value)
    # every DWD source is checked: the ones this module never loads (ads, shop health, ...) fail too,
    # since a source that never arrived is as stale as it gets; nothing but sources ran
    failed = {node.name: node for node in caught.value.failed_nodes}
    assert {node.resource_type for node in failed.values()} == {"source"}
    assert failed["dwd.order_item"].status == "error"
    assert fetch_daily(wh) == before


def test_dbt_env_comes_from_the_warehouse_url() -> None:
    settings = Settings(
        warehouse_url_override="postgresql+psycopg://etl:p%40ss@db.internal:6543/wh?sslmode=require"
    )
    assert dbt_env(settings) == {
        "MERCATOR_DBT_HOST": "db.internal",
        "MERCATOR_DBT_PORT": "6543",
        "MERCATOR_DBT_USER": "etl",
        "MERCATOR_DBT_PASSWORD": "p@ss",
        "MERCATOR_DBT_DBNAME": "wh",
        "MERCATOR_DBT_SCHEMA": "dws",
        "MERCATOR_DBT_SSLMODE": "require",
    }


def test_unreachable_warehouse_fails_clearly_without_the_password(
    wh: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cret-Pa55word"
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    unreachable = wh.model_copy(
        update={"warehouse_url_override": f"postgresql://etl:{secret}@127.0.0.1:{port}/mercator"}
    )
    with pytest.raises(DbtRunError) as caught:
        run_dbt(unreachable, ["run", "--select", "stg_orders__order_items"])
    assert str(port) in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in caplog.text
