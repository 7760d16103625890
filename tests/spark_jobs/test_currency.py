"""Reporting-currency conversion: as-of rate lookups, the reference table, and the DWD job's columns."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow.dataset as pads
import pytest

from ops.settings import Settings
from spark_jobs.currency import FxTable, MissingFxRateError, resolve_pairs
from spark_jobs.order_items import run_order_items
from storage.lake import Lake, local_path
from storage.reference.fx import LOADED_FROM, FxRate, load_reference_rates, read_reference_file
from storage.warehouse import connect

CENT = Decimal("0.01")
DAY = date(2025, 9, 10)


def rate(currency: str, day: date, units_per_usd: str) -> FxRate:
    return FxRate(currency, day, Decimal(units_per_usd), "test")


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def dwd_rows(settings: Settings) -> dict[str, dict[str, Any]]:
    root = local_path(Lake(settings.lake_uri).dwd_table("order_item"))
    table = pads.dataset(root, format="parquet", partitioning="hive").to_table()
    return {row["order_item_id"]: row for row in table.to_pylist()}


# ---- as-of lookups (no Spark) -------------------------------------------------------------------------
def test_the_latest_rate_on_or_before_the_day_applies_and_only_while_fresh():
    fx = FxTable.of(
        [rate("GBP", date(2025, 1, 15), "0.75"), rate("GBP", date(2025, 1, 1), "0.80")], max_age_days=35
    )

    assert fx.units_per_usd("GBP", date(2024, 12, 31)) is None  # before the first rate
    assert fx.units_per_usd("GBP", date(2025, 1, 1)) == Decimal("0.80")  # on the rate's own date
    assert fx.units_per_usd("GBP", date(2025, 1, 14)) == Decimal("0.80")
    assert fx.units_per_usd("GBP", date(2025, 1, 15)) == Decimal("0.75")
    assert fx.units_per_usd("GBP", date(2025, 2, 19)) == Decimal("0.75")  # 35 days old: still valid
    assert fx.units_per_usd("GBP", date(2025, 2, 20)) is None  # 36 days old: stale, not silently used
    assert fx.units_per_usd("EUR", date(2025, 1, 20)) is None  # unknown currency
    assert fx.units_per_usd("USD", date(1999, 1, 1)) == Decimal(1)


def test_pairs_cross_through_usd_and_the_same_currency_is_one():
    fx = FxTable.of([rate("GBP", date(2025, 1, 1), "0.80"), rate("EUR", date(2025, 1, 1), "0.90")], 35)

    assert fx.fx_rate("GBP", "USD", date(2025, 1, 5)) == Decimal("1.25")
    assert fx.fx_rate("USD", "GBP", date(2025, 1, 5)) == Decimal("0.8")
    assert fx.fx_rate("GBP", "EUR", date(2025, 1, 5)) == Decimal("1.125")
    assert fx.fx_rate("JPY", "JPY", date(2025, 1, 5)) == Decimal(1)  # no rate needed
    found, missing = resolve_pairs(fx, "USD", [("GBP", date(2025, 1, 5)), ("BRL", date(2025, 1, 5))])
    assert found == {("GBP", date(2025, 1, 5)): Decimal("1.25")}
    assert missing == [("BRL", date(2025, 1, 5))]


# ---- the reference table --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("currencies", "first", "last"),
    [
        (("GBP", "EUR", "BRL", "JPY", "CNY", "CAD"), date(2025, 1, 1), date(2026, 6, 30)),  # sandbox
        (("BRL",), date(2016, 9, 1), date(2018, 10, 31)),  # Olist
        (("GBP",), date(2010, 12, 1), date(2011, 12, 31)),  # UCI Online Retail
    ],
)
def test_the_reference_rates_cover_every_day_of_the_sandbox_and_importer_periods(currencies, first, last):
    fx = FxTable.of(read_reference_file(), Settings().fx_max_rate_age_days)

    uncovered = [
        (c, d) for c in currencies for d in every_day(first, last) if fx.fx_rate(c, "USD", d) is None
    ]

    assert uncovered == []
    assert fx.fx_rate("BRL", "USD", date(2020, 6, 1)) is None  # outside the table: refused, not stale


def test_the_reference_file_is_loaded_into_the_warehouse_without_overwriting_a_feed(settings):
    reference = read_reference_file()
    assert {r.basis for r in reference} == {"approx_monthly_average", "placeholder_not_observed"}
    feed_day = reference[0].rate_date
    with connect(settings, autocommit=True) as conn:
        conn.execute(  # a real feed's row for a date the file also has
            "update dwd.fx_rate set units_per_usd = 1.5, loaded_from = 'feed:test'"
            " where currency = %s and rate_date = %s",
            (reference[0].currency, feed_day),
        )
        try:
            assert load_reference_rates(conn) == len(reference)  # a rerun is harmless
            rows = conn.execute(
                "select currency, rate_date, units_per_usd, loaded_from from dwd.fx_rate"
            ).fetchall()
        finally:
            conn.execute(
                "update dwd.fx_rate set units_per_usd = %s, loaded_from = %s"
                " where currency = %s and rate_date = %s",
                (reference[0].units_per_usd, LOADED_FROM, reference[0].currency, feed_day),
            )
    by_key = {(c.strip(), d): (u, src) for c, d, u, src in rows}
    assert len(by_key) == len(reference)
    assert by_key[(reference[0].currency, feed_day)] == (Decimal("1.5"), "feed:test")
    assert all(by_key[(r.currency, r.rate_date)][0] == r.units_per_usd for r in reference[1:])


# ---- the DWD job ------------------------------------------------------------------------------------
KNOWN = FxTable.of(
    [
        rate("GBP", date(2025, 9, 1), "0.80"),  # 1 GBP = 1.25 USD
        rate("GBP", DAY, "0.78125"),  # 1 GBP = 1.28 USD from DAY on
        rate("JPY", date(2025, 9, 1), "150"),
    ],
    max_age_days=35,
)


def test_order_items_get_reporting_amounts_to_the_cent_with_the_rate_of_the_purchase_date(
    spark, lake_settings, ods
):
    before = DAY - timedelta(days=1)
    ods.write(
        before,
        [
            # 10.02 GBP x 1.25 = 12.525 → 12.53 (half up); unit 5.01 x 1.25 = 6.2625 → 6.26
            ods.order(
                "G-1",
                purchased=f"{before}T23:59:59Z",
                marketplace=ods.UK,
                items=[ods.item("G-1-1", qty=2, amount="10.02", currency="GBP")],
            ),
        ],
    )
    ods.write(
        DAY,
        [
            ods.order(  # the day the new rate starts: 10.02 x 1.28 = 12.8256 → 12.83
                "G-2",
                purchased=f"{DAY}T00:00:00Z",
                marketplace=ods.UK,
                items=[ods.item("G-2-1", qty=2, amount="10.02", currency="GBP")],
            ),
            ods.order("U-1", purchased=f"{DAY}T08:00:00Z", items=[ods.item("U-1-1", amount="19.99")]),
            ods.order(  # 1999 JPY / 150 = 13.3266… → 13.33
                "J-1",
                purchased=f"{DAY}T09:00:00Z",
                items=[ods.item("J-1-1", amount="1999.00", currency="JPY")],
            ),
        ],
    )

    counts = run_order_items(spark, lake_settings, DAY, fx=KNOWN)

    rows = dwd_rows(lake_settings)
    got = {
        key: (r["fx_rate"], r["unit_price_reporting"], r["item_amount_reporting"], r["reporting_currency"])
        for key, r in rows.items()
    }
    assert got == {
        "G-1-1": (Decimal("1.25"), Decimal("6.26"), Decimal("12.53"), "USD"),
        "G-2-1": (Decimal("1.28"), Decimal("6.41"), Decimal("12.83"), "USD"),
        "U-1-1": (Decimal(1), Decimal("19.99"), Decimal("19.99"), "USD"),
        "J-1-1": (Decimal("0.0066666667"), Decimal("13.33"), Decimal("13.33"), "USD"),
    }
    exact = (Decimal("1999.00") / 150).quantize(CENT, ROUND_HALF_UP)
    assert rows["J-1-1"]["item_amount_reporting"] == exact
    assert rows["G-1-1"]["item_amount"] == Decimal("10.02") and rows["G-1-1"]["currency"] == "GBP"
    assert counts.details()["reporting_currency"] == "USD"


def test_another_reporting_currency_is_configuration_only(spark, lake_settings, ods):
    settings = lake_settings.model_copy(update={"reporting_currency": "GBP"})
    ods.write(
        DAY, [ods.order("U-2", purchased=f"{DAY}T08:00:00Z", items=[ods.item("U-2-1", amount="12.80")])]
    )

    run_order_items(spark, settings, DAY, fx=KNOWN)

    row = dwd_rows(settings)["U-2-1"]
    assert (row["reporting_currency"], row["fx_rate"], row["item_amount_reporting"]) == (
        "GBP",
        Decimal("0.78125"),
        Decimal("10.00"),
    )


def test_a_missing_rate_stops_the_run_naming_source_partition_and_order(spark, lake_settings, ods):
    no_rate = date(2025, 8, 31)  # the day before the first GBP rate
    ods.write(
        no_rate,
        [
            ods.order("U-3", purchased=f"{no_rate}T08:00:00Z"),
            ods.order(
                "G-3",
                purchased=f"{no_rate}T10:00:00Z",
                marketplace=ods.UK,
                items=[ods.item("G-3-1", currency="GBP")],
            ),
        ],
    )

    with pytest.raises(MissingFxRateError) as raised:
        run_order_items(spark, lake_settings, no_rate, fx=KNOWN)

    message = str(raised.value)
    assert "orders/order" in message and "AmazonOrderId G-3" in message and "'GBP'" in message
    assert Lake(lake_settings.lake_uri).ods_partition("orders", "order", no_rate) in message
    assert "U-3" not in message  # the USD order needs no rate
    assert not local_path(Lake(lake_settings.lake_uri).dwd_table("order_item")).exists()  # nothing written


def test_by_default_the_job_converts_with_the_warehouse_rate_table(spark, lake_settings, ods):
    ods.write(
        DAY,
        [
            ods.order(
                "G-4",
                purchased=f"{DAY}T08:00:00Z",
                marketplace=ods.UK,
                items=[ods.item("G-4-1", amount="100.00", currency="GBP")],
            )
        ],
    )
    with connect(lake_settings) as conn:
        units = conn.execute(
            "select units_per_usd from dwd.fx_rate where currency = 'GBP' and rate_date <= %s"
            " order by rate_date desc limit 1",
            (DAY,),
        ).fetchone()[0]

    run_order_items(spark, lake_settings, DAY)

    row = dwd_rows(lake_settings)["G-4-1"]
    assert row["fx_rate"] == (1 / units).quantize(Decimal("1E-10"))
    assert row["item_amount_reporting"] == (Decimal("100.00") * row["fx_rate"]).quantize(CENT, ROUND_HALF_UP)
