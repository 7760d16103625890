"""The customer marts (dws_customer_daily, ads_customer_value, ads_cohort_retention) on real Postgres.

A hand-made order history with known answers: a Champion, a Hibernating customer, an At Risk one past
its churn threshold, known personal and marketplace repurchase cycles, a partly cancelled order, a
customer whose only order was cancelled. One full build, then one incremental day. Own database, so
other modules' DWD rows cannot leak in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import psycopg
import pytest

from ops.dbt_runner import DbtRunResult, build_day_range, run_dbt
from ops.settings import Settings
from storage.warehouse import connect
from tests.conftest import OwnWarehouse
from tests.dbt.conftest import assert_marts_match_pinned

CURRENCY = {"US": "USD", "DE": "EUR"}
AS_OF = date(2025, 6, 30)
JUL1 = date(2025, 7, 1)


@dataclass(frozen=True)
class Item:
    customer: str
    marketplace: str
    ds: date
    order_id: str
    quantity: int
    unit_price: str
    cancelled: bool = False

    @property
    def item_amount(self) -> Decimal:
        return Decimal(self.unit_price) * self.quantity


def d(month: int, day: int) -> date:
    return date(2025, month, day)


HISTORY = [
    # champ: 5 orders 20-30 days apart up to the as-of date -> R5 F5 M5, cycle 90 / 4 = 22.5
    *(
        Item("champ", "US", ds, f"champ-{i}", 1, "50.00")
        for i, ds in enumerate([d(4, 1), d(4, 21), d(5, 11), d(5, 31), d(6, 30)])
    ),
    # hib: one small order in January -> R1 F1 M1
    Item("hib", "US", d(1, 10), "hib-1", 1, "20.00"),
    # regular: every 30 days, silent for 61 days since -> At Risk, past the 60-day default threshold
    *(
        Item("regular", "US", ds, f"regular-{i}", 1, "40.00")
        for i, ds in enumerate([d(3, 1), d(3, 31), d(4, 30)])
    ),
    # new: one order, then a fully cancelled one (does not move the last order date)
    Item("new", "US", d(6, 25), "new-1", 1, "30.00"),
    Item("new", "US", d(6, 28), "new-2", 1, "15.00", cancelled=True),
    # mid: a partly cancelled order, then one 61 days later (personal cycle beats the default)
    Item("mid", "US", d(4, 15), "mid-1", 1, "25.00"),
    Item("mid", "US", d(4, 15), "mid-1", 2, "5.00", cancelled=True),
    Item("mid", "US", d(6, 15), "mid-2", 1, "25.00"),
    # ghost: only a cancelled order -> in the daily table, in no mart
    Item("ghost", "US", d(6, 10), "ghost-1", 1, "99.00", cancelled=True),
    # DE: a slow repeat buyer (90-day cycle, the marketplace's cycle too) and a new one
    Item("slow", "DE", d(1, 5), "slow-1", 1, "10.00"),
    Item("slow", "DE", d(4, 5), "slow-2", 1, "10.00"),
    Item("de_new", "DE", d(6, 28), "de_new-1", 1, "35.00"),
]
NEXT_DAY = [
    Item("hib", "US", JUL1, "hib-2", 1, "20.00"),
    Item("late", "US", JUL1, "late-1", 3, "15.00"),
]

# (customer, marketplace) -> hand-computed answers as of 2025-06-30. US category cycle: gaps
# 90 + 60 + 61 days over 4 + 2 + 1 gaps = 30.14; DE: 90 / 1. Threshold max(1.5 personal,
# 1.5 category, 60). Priority 100 * (F + M) / 10 * min(days since / threshold, 1).
EXPECTED_VALUE = {
    # (R, F, M), segment, tier, days since, personal, category, threshold, warning, priority
    ("champ", "US"): ((5, 5, 5), "Champions", "high", 0, "22.50", "30.14", "60.00", False, "0.00"),
    ("new", "US"): ((4, 1, 2), "Promising", "low", 5, None, "30.14", "60.00", False, "2.50"),
    ("mid", "US"): ((3, 3, 3), "Need Attention", "medium", 15, "61.00", "30.14", "91.50", False, "9.84"),
    ("regular", "US"): ((2, 4, 4), "At Risk", "medium", 61, "30.00", "30.14", "60.00", True, "80.00"),
    ("hib", "US"): ((1, 1, 1), "Hibernating", "low", 171, None, "30.14", "60.00", True, "20.00"),
    ("slow", "DE"): ((1, 5, 1), "At Risk", "low", 86, "90.00", "90.00", "135.00", False, "38.22"),
    ("de_new", "DE"): ((5, 1, 5), "New Customers", "high", 2, None, "90.00", "135.00", False, "0.89"),
}


def insert_items(settings: Settings, items: list[Item]) -> None:
    rows = []
    for n, item in enumerate(items):
        purchased_at = datetime(item.ds.year, item.ds.month, item.ds.day, 9, tzinfo=UTC)
        status = "cancelled" if item.cancelled else "delivered"
        rows.append(
            (
                f"{item.order_id}-{n}",
                item.order_id,
                "MKT-" + item.marketplace,
                item.marketplace,
                "Amazon." + item.marketplace.lower(),
                item.customer,
                "ASIN" + item.order_id.upper(),
                item.quantity,
                Decimal(item.unit_price),
                item.item_amount,
                CURRENCY[item.marketplace],
                status.upper(),
                status,
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


def expected_customer_daily(items: list[Item]) -> dict[tuple[str, str, date], tuple]:
    """(orders, units, gmv, cancelled_orders, is_first_purchase) per customer-day, from the items."""
    by_order: dict[tuple[str, str, date, str], list[Item]] = defaultdict(list)
    for item in items:
        by_order[(item.customer, item.marketplace, item.ds, item.order_id)].append(item)
    first_live = {}
    for item in sorted(items, key=lambda i: i.ds):
        if not item.cancelled:
            first_live.setdefault((item.customer, item.marketplace), item.ds)
    out: dict[tuple[str, str, date], list] = {}
    for (customer, marketplace, ds, _), order in sorted(by_order.items()):
        row = out.setdefault((customer, marketplace, ds), [0, 0, Decimal("0.00"), 0])
        live = [item for item in order if not item.cancelled]
        if live:
            row[0] += 1
            row[1] += sum(item.quantity for item in live)
            row[2] += sum(item.item_amount for item in live)
        else:
            row[3] += 1
    return {key: (*row, first_live.get(key[:2]) == key[2]) for key, row in out.items()}


def expected_cohorts(items: list[Item]) -> pd.DataFrame:
    """Cohort retention computed independently with pandas from the raw items."""
    as_of = max(item.ds for item in items)
    live = pd.DataFrame(
        [(i.customer, i.marketplace, pd.Period(i.ds, "M")) for i in items if not i.cancelled],
        columns=["customer", "marketplace", "month"],
    ).drop_duplicates()
    live["cohort"] = live.groupby(["customer", "marketplace"])["month"].transform("min")
    sizes = live.groupby(["marketplace", "cohort"])["customer"].nunique()
    rows = []
    for (marketplace, cohort), size in sizes.items():
        members = live[(live.marketplace == marketplace) & (live.cohort == cohort)]
        for offset in range((pd.Period(as_of, "M") - cohort).n + 1):
            active = members[members.month == cohort + offset]["customer"].nunique()
            rows.append(
                (marketplace, cohort.start_time.date(), offset, size, active, round(active / size, 4))
            )
    return pd.DataFrame(
        rows, columns=["marketplace", "cohort_month", "months", "cohort_size", "active", "rate"]
    ).sort_values(["marketplace", "cohort_month", "months"], ignore_index=True)


def fetch_customer_daily(settings: Settings) -> dict[tuple[str, str, date], dict]:
    with connect(settings) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("select * from dws.dws_customer_daily")
        return {(r["customer_key"], r["marketplace"], r["ds"]): r for r in cur.fetchall()}


def fetch_value(settings: Settings) -> dict[tuple[str, str], dict]:
    with connect(settings) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("select * from ads.ads_customer_value")
        return {(r["customer_key"], r["marketplace"]): r for r in cur.fetchall()}


def fetch_cohorts(settings: Settings) -> pd.DataFrame:
    with connect(settings) as conn:
        rows = conn.execute(
            "select marketplace, cohort_month, months_since_first_purchase, cohort_size, active_customers,"
            " retention_rate::float8 from ads.ads_cohort_retention order by 1, 2, 3"
        ).fetchall()
    return pd.DataFrame(
        rows, columns=["marketplace", "cohort_month", "months", "cohort_size", "active", "rate"]
    )


def assert_daily_matches(settings: Settings, items: list[Item]) -> dict[tuple[str, str, date], dict]:
    actual = fetch_customer_daily(settings)
    expected = expected_customer_daily(items)
    assert set(actual) == set(expected)
    for key, (orders, units, gmv, cancelled, is_first) in expected.items():
        row = actual[key]
        assert (
            row["orders"],
            row["units"],
            row["gmv"],
            row["cancelled_orders"],
            row["is_first_purchase"],
        ) == (
            orders,
            units,
            gmv,
            cancelled,
            is_first,
        ), key
        assert row["currency"] == CURRENCY[key[1]]
    return actual


@pytest.fixture(scope="module")
def wh(own_warehouse: OwnWarehouse) -> Settings:
    own = own_warehouse("mercator_dbt_customer_tests", dwd_tables=["order_item"])
    insert_items(own, HISTORY)
    return own


@pytest.fixture(scope="module")
def first_build(wh: Settings) -> DbtRunResult:
    return run_dbt(wh, ["build", "--full-refresh"])


def test_marts_are_as_pinned(wh: Settings, first_build: DbtRunResult) -> None:
    assert_marts_match_pinned(wh, "customers")


def test_customer_daily_matches_the_items(wh: Settings, first_build: DbtRunResult) -> None:
    assert not first_build.failed
    actual = assert_daily_matches(wh, HISTORY)
    # the edge cases, spelled out
    assert actual[("mid", "US", d(4, 15))]["gmv"] == Decimal("25.00")  # cancelled item adds nothing
    assert actual[("mid", "US", d(4, 15))]["is_first_purchase"] is True
    assert actual[("new", "US", d(6, 28))]["orders"] == 0
    assert actual[("new", "US", d(6, 28))]["cancelled_orders"] == 1
    assert actual[("ghost", "US", d(6, 10))]["is_first_purchase"] is False
    for name in (
        "ads_customer_value_rfm_segment_rules",
        "ads_customer_value_churn_threshold",
        "assert_rfm_segment_rules_cover_the_grid",
        "unique_combination_of_columns_ads_customer_value_customer_key__marketplace",
    ):
        assert first_build.node(name).status == "pass", name
    assert first_build.node("ads_customer_value", "model").status == "success"
    assert first_build.node("ads_cohort_retention", "model").status == "success"
    assert not first_build.warnings, first_build.warnings


def test_customer_value_known_answers(wh: Settings, first_build: DbtRunResult) -> None:
    actual = fetch_value(wh)
    assert set(actual) == set(EXPECTED_VALUE)  # ghost (cancelled only) is not scored
    for key, (
        rfm,
        segment,
        tier,
        days,
        personal,
        category,
        threshold,
        warning,
        priority,
    ) in EXPECTED_VALUE.items():
        row = actual[key]
        got = (
            (row["recency_score"], row["frequency_score"], row["monetary_score"]),
            row["rfm_segment"],
            row["value_tier"],
            row["days_since_last_order"],
            row["personal_repurchase_cycle_days"],
            row["category_repurchase_cycle_days"],
            row["churn_threshold_days"],
            row["is_churn_warning"],
            row["follow_up_priority_score"],
        )
        dec = [Decimal(v) if v is not None else None for v in (personal, category, threshold, priority)]
        assert got == (rfm, segment, tier, days, dec[0], dec[1], dec[2], warning, dec[3]), key
        assert row["as_of_ds"] == AS_OF
    new = actual[("new", "US")]
    assert (new["last_order_ds"], new["orders"], new["cancelled_orders"], new["gmv"]) == (d(6, 25), 1, 1, 30)
    assert actual[("champ", "US")]["aov"] == Decimal("50.00")
    # the follow-up list puts the overdue At Risk customer first
    ranked = sorted(actual, key=lambda k: actual[k]["follow_up_priority_score"], reverse=True)
    assert ranked[0] == ("regular", "US")


def test_cohort_retention_matches_pandas(wh: Settings, first_build: DbtRunResult) -> None:
    actual = fetch_cohorts(wh)
    pd.testing.assert_frame_equal(actual, expected_cohorts(HISTORY), check_dtype=False)
    # April US cohort (champ, mid): both active in April, champ alone in May, both in June
    april = actual[(actual.marketplace == "US") & (actual.cohort_month == d(4, 1))]
    assert april[["months", "active", "rate"]].values.tolist() == [[0, 2, 1.0], [1, 1, 0.5], [2, 2, 1.0]]


def test_incremental_day_touches_only_its_rows(wh: Settings, first_build: DbtRunResult) -> None:
    before = fetch_customer_daily(wh)
    insert_items(wh, NEXT_DAY)

    result = build_day_range(wh, JUL1, JUL1, select=["dws_customer_daily+"])

    assert result.node("dws_customer_daily", "model").rows_affected == 2  # hib and late on Jul 1
    after = assert_daily_matches(wh, HISTORY + NEXT_DAY)
    assert {key for key in after if key[2] == JUL1} == {("hib", "US", JUL1), ("late", "US", JUL1)}
    assert after[("late", "US", JUL1)]["is_first_purchase"] is True
    assert after[("hib", "US", JUL1)]["is_first_purchase"] is False
    for key, row in before.items():
        assert after[key] == row, key  # not rewritten: same processed_at

    value = fetch_value(wh)
    hib = value[("hib", "US")]
    assert (hib["as_of_ds"], hib["days_since_last_order"], hib["orders"]) == (JUL1, 0, 2)
    assert hib["personal_repurchase_cycle_days"] == Decimal("172.00")
    assert hib["is_churn_warning"] is False
    assert ("late", "US") in value
    pd.testing.assert_frame_equal(fetch_cohorts(wh), expected_cohorts(HISTORY + NEXT_DAY), check_dtype=False)

    # the tier history kept hib's Hibernating version and opened the new one on Jul 1 (business dates)
    versions = tier_versions(wh)
    hib_versions = [v for v in versions if v[:2] == ("hib", "US")]
    assert [(segment, valid_from) for _, _, segment, _, valid_from in hib_versions] == [
        ("Hibernating", hib_versions[0][4]),
        (hib["rfm_segment"], JUL1),
    ]
    current = {v[:2]: (v[2], v[3]) for v in versions}  # ordered by valid_from: the last one wins
    assert current == {key: (row["rfm_segment"], row["value_tier"]) for key, row in value.items()}
    assert_marts_match_pinned(wh, "customers_next_day")

    # rerunning the day (or any past day) rewrites the same versions
    build_day_range(wh, JUL1, JUL1, select=["dws_customer_daily+"])
    assert tier_versions(wh) == versions


def tier_versions(wh: Settings) -> list[tuple]:
    with connect(wh) as conn:
        return conn.execute(
            "select customer_key, marketplace, rfm_segment, value_tier, valid_from"
            " from ads.ads_customer_tier_history order by customer_key, marketplace, valid_from"
        ).fetchall()


def test_analyst_reads_the_customer_marts(wh: Settings, first_build: DbtRunResult) -> None:
    with connect(wh, autocommit=True) as conn:
        conn.execute("set role analyst")
        for relation in ("ads.ads_customer_value", "ads.ads_cohort_retention", "dws.dws_customer_daily"):
            assert conn.execute(f"select count(*) from {relation}").fetchone()[0] > 0, relation
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select customer_key from dwd.order_item limit 1")
