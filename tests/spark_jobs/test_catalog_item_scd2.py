"""ODS catalog listings → DWD ``catalog_item`` as SCD2: versions with contiguous validity, order-free reruns.

Hand-written ODS days pin down the history rules (three versions, a late day inserted between two others,
byte-identical reruns, an as-of query in Postgres); sandbox days landed by the real connector check the
values and the invariants on real data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ops.settings import Settings
from spark_jobs.catalog_item import SPEC as CATALOG_ITEM_SPEC
from spark_jobs.entity_job import run_entity
from storage.loader import load_dwd_partitions, read_dwd_partition
from storage.warehouse import connect
from tests.spark_jobs.entity_lake import land_sandbox_day, ods_records, parquet_bytes, write_ods

D1, D2, D3 = date(2025, 10, 11), date(2025, 10, 12), date(2025, 10, 13)
SEED = 23
DS = date(2025, 11, 5)
SANDBOX_DAYS = [DS - timedelta(days=2), DS - timedelta(days=1), DS]
US = "ATVPDKIKX0DER"


def _ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _listing(
    asin: str, updated: str, version: int, title: str, price: str = "19.99", cost: str = "6.40"
) -> dict[str, Any]:
    return {
        "asin": asin,
        "marketplaceId": US,
        "lastUpdatedDate": updated,
        "version": version,
        "summaries": {
            "itemName": title,
            "brand": "Acme",
            "browseClassification": {"classificationId": "1037", "displayName": "Kitchen Utensils"},
            "categoryPath": ["Home & Kitchen", "Kitchen Utensils"],
            "releaseDate": "2025-01-15",
        },
        "listPrice": {"amount": price, "currencyCode": "USD"},
        "unitCost": {"amount": cost, "currencyCode": "USD"},
        "fulfillmentChannel": "FBA",
        "isSample": False,
        "listingQuality": {
            "imageCount": 5,
            "bulletPointCount": 4,
            "hasAPlusContent": False,
            "titleLength": 20,
        },
    }


A0 = _listing("B0AAAAAAA1", "2025-10-11T09:00:00Z", 0, "Spatula")
A1_EARLY = _listing("B0AAAAAAA1", "2025-10-12T08:00:00Z", 1, "Spatula, silicone")
A1 = _listing("B0AAAAAAA1", "2025-10-12T10:00:00Z", 2, "Spatula, silicone, heat proof", price="17.99")
A2 = {
    **_listing("B0AAAAAAA1", "2025-10-13T11:00:00Z", 3, "Spatula Pro", price="21.99", cost="15.10"),
    "fulfillmentChannel": "DROP_SHIP",  # a new supplier ships it: cost and channel are versioned too
}
B0 = {  # a schema-v1 record: no cost, channel or sample flag (nullable)
    k: v
    for k, v in _listing("B0BBBBBBB2", "2025-10-11T15:00:00Z", 0, "Whisk").items()
    if k not in ("unitCost", "fulfillmentChannel", "isSample")
}
ODS = {D1: [A0, B0], D2: [A1, A1_EARLY, A1], D3: [A2]}  # D2: a duplicate and an earlier same-day change


def _write_days(settings: Settings) -> None:
    for day, records in ODS.items():
        write_ods(settings, "catalog", "catalog_item", day, records)


def _rows(settings: Settings, days: list[date]) -> list[dict[str, Any]]:
    out = []
    for day in days:
        table = read_dwd_partition(settings, "catalog_item", day)
        out += [] if table is None else table.to_pylist()
    return out


def _own_lake(settings: Settings, tmp_path: Path, name: str) -> Settings:
    return settings.model_copy(update={"lake_uri_override": (tmp_path / name).as_uri()})


def test_two_changes_give_three_contiguous_versions_and_order_does_not_matter(spark, settings, tmp_path):
    in_order, late = _own_lake(settings, tmp_path, "in-order"), _own_lake(settings, tmp_path, "late")
    _write_days(in_order)
    _write_days(late)

    runs = {day: run_entity(spark, in_order, CATALOG_ITEM_SPEC, day) for day in (D1, D2, D3)}
    assert (runs[D2].rows_in, runs[D2].rows_out, runs[D2].duplicates_dropped) == (3, 1, 2)
    assert runs[D2].partitions == {D1: 2, D2: 1}  # D2's version closed A's version of D1
    assert runs[D3].partitions == {D2: 1, D3: 1}

    rows = _rows(in_order, [D1, D2, D3])
    history = [r for r in rows if r["asin"] == A0["asin"]]
    assert [(r["item_name"], r["version"], r["list_price"]) for r in history] == [
        ("Spatula", 0, Decimal("19.99")),
        ("Spatula, silicone, heat proof", 2, Decimal("17.99")),  # the day's latest change wins
        ("Spatula Pro", 3, Decimal("21.99")),
    ]
    assert [
        (r["unit_cost"], r["unit_cost_currency"], r["fulfillment_channel"], r["is_sample"]) for r in history
    ] == [
        (Decimal("6.40"), "USD", "fba", False),
        (Decimal("6.40"), "USD", "fba", False),
        (Decimal("15.10"), "USD", "drop_ship", False),
    ]
    assert [r["valid_from"] for r in history] == [_ts(x["lastUpdatedDate"]) for x in (A0, A1, A2)]
    assert [r["valid_to"] for r in history] == [_ts(A1["lastUpdatedDate"]), _ts(A2["lastUpdatedDate"]), None]
    assert [r["is_current"] for r in history] == [False, False, True]
    assert [r["ds"] for r in history] == [D1, D2, D3]
    whisk = [r for r in rows if r["asin"] == B0["asin"]]
    assert [(r["valid_to"], r["is_current"]) for r in whisk] == [(None, True)]
    assert [(r["unit_cost"], r["fulfillment_channel"], r["is_sample"]) for r in whisk] == [(None, None, None)]
    assert history[0]["category_path"] == '["Home & Kitchen","Kitchen Utensils"]'

    # A late day: D3 runs before D2. D2 then lands between, closing D1's version and closed by D3's.
    run_entity(spark, late, CATALOG_ITEM_SPEC, D1)
    run_entity(spark, late, CATALOG_ITEM_SPEC, D3)
    assert [r["valid_to"] for r in _rows(late, [D1]) if r["asin"] == A0["asin"]] == [
        _ts(A2["lastUpdatedDate"])
    ]
    late_d2 = run_entity(spark, late, CATALOG_ITEM_SPEC, D2)
    assert late_d2.partitions == {D1: 2, D2: 1}
    assert parquet_bytes(late, "catalog_item") == parquet_bytes(in_order, "catalog_item")

    # A rerun rewrites only its own day, byte for byte.
    first = parquet_bytes(in_order, "catalog_item")
    again = run_entity(spark, in_order, CATALOG_ITEM_SPEC, D2)
    assert again.partitions == {D2: 1}
    assert parquet_bytes(in_order, "catalog_item") == first


def test_loaded_versions_answer_what_a_listing_looked_like_on_a_day(spark, settings, tmp_path):
    own = _own_lake(settings, tmp_path, "loaded")
    _write_days(own)
    written: set[date] = set()
    for day in (D1, D3, D2):  # late day included
        written |= set(run_entity(spark, own, CATALOG_ITEM_SPEC, day).partitions)
    loaded = load_dwd_partitions(own, "catalog_item", sorted(written))
    assert loaded == {D1: 2, D2: 1, D3: 1}

    parquet = _rows(own, [D1, D2, D3])
    columns = list(parquet[0])
    with connect(own) as conn:
        cur = conn.execute(
            f"select {', '.join(columns)} from dwd.catalog_item where ds between %s and %s"
            " order by ds, asin, marketplace_id",
            (D1, D3),
        )
        pg = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
        as_of = {
            day: conn.execute(
                "select item_name, unit_cost, fulfillment_channel from dwd.catalog_item"
                " where asin = %s and marketplace_id = %s"
                " and valid_from <= %s and (valid_to is null or %s < valid_to)",
                (A0["asin"], US, day + timedelta(days=1), day + timedelta(days=1)),
            ).fetchall()
            for day in (D1 - timedelta(days=1), D1, D2, D3)
        }
    assert pg == sorted(parquet, key=lambda r: (r["ds"], r["asin"], r["marketplace_id"]))
    assert as_of == {
        D1 - timedelta(days=1): [],  # not listed yet
        D1: [("Spatula", Decimal("6.40"), "fba")],
        D2: [("Spatula, silicone, heat proof", Decimal("6.40"), "fba")],
        D3: [("Spatula Pro", Decimal("15.10"), "drop_ship")],
    }


@pytest.fixture(scope="module")
def landed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    lake = tmp_path_factory.mktemp("catalog-scd2") / "lake"
    for day in SANDBOX_DAYS:
        run_settings = land_sandbox_day(settings, lake, ["catalog"], SEED, day)
    yield run_settings


def test_sandbox_days_build_a_history_with_one_current_version_per_listing(spark, landed):
    served: dict[tuple[str, str, date], dict[str, Any]] = {}
    for day in SANDBOX_DAYS:
        for r in ods_records(landed, "catalog", "catalog_item", day):
            served[(r["asin"], r["marketplaceId"], day)] = r  # the day's last served version
        counts = run_entity(spark, landed, CATALOG_ITEM_SPEC, day)
        assert counts.rows_rejected == 0 and counts.reconciles
    rows = _rows(landed, SANDBOX_DAYS)
    assert len(rows) == len(served) > 0
    for row in rows:
        record = served[(row["asin"], row["marketplace_id"], row["ds"])]
        price = record.get("listPrice") or {}
        assert (row["valid_from"], row["version"], row["item_name"]) == (
            _ts(record["lastUpdatedDate"]),
            record.get("version"),
            record["summaries"]["itemName"],
        )
        assert (row["list_price"], row["currency"]) == (Decimal(price["amount"]), price["currencyCode"])
        cost = record["unitCost"]
        assert (row["unit_cost"], row["unit_cost_currency"]) == (
            Decimal(cost["amount"]),
            cost["currencyCode"],
        )
        assert (row["fulfillment_channel"], row["is_sample"]) == (
            record["fulfillmentChannel"].lower(),  # an enum: DWD keeps it lower-case
            record["isSample"],
        )
        assert 0 < row["unit_cost"] < row["list_price"] * Decimal("1.5")
    listings: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r["valid_from"]):
        listings.setdefault((row["asin"], row["marketplace_id"]), []).append(row)
    for versions in listings.values():
        assert [v["valid_to"] for v in versions] == [v["valid_from"] for v in versions[1:]] + [None]
        assert [v["is_current"] for v in versions] == [False] * (len(versions) - 1) + [True]
    first = parquet_bytes(landed, "catalog_item")
    run_entity(spark, landed, CATALOG_ITEM_SPEC, SANDBOX_DAYS[1])
    assert parquet_bytes(landed, "catalog_item") == first
