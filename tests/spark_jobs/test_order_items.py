"""ODS orders → DWD order_item on the shared local Spark session, against the ODS file contract."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.dataset as pads
import pytest
from pydantic import SecretStr

from ops.quality.dwd import validate_dwd_partitions
from ops.quality.engine import DataQualityError
from ops.settings import Settings
from spark_jobs.entity_spec import OdsPartitionMissingError
from spark_jobs.marketplaces import UnknownMarketplaceError
from spark_jobs.order_items import (
    classify,
    pseudonymise,
    read_ods,
    readable_ods_days,
    run_order_items,
    to_dwd,
)
from spark_jobs.pii import customer_key
from spark_jobs.statuses import AMAZON, UnknownStatusError
from storage.lake import Lake, local_path
from storage.warehouse import connect


def day(n: int, month: int = 11) -> date:
    return date(2025, month, n)


def dwd_rows(settings: Settings) -> list[dict[str, Any]]:
    """Every DWD order_item row in the lake, ds included, in a stable order."""
    root = local_path(Lake(settings.lake_uri).dwd_table("order_item"))
    table = pads.dataset(root, format="parquet", partitioning="hive").to_table()
    rows = table.to_pylist()
    for row in rows:
        row["ds"] = str(row["ds"])
    return sorted(rows, key=lambda r: (r["ds"], r["order_item_id"]))


def last_run_log(settings: Settings, step: str, ds: date) -> tuple[Any, ...] | None:
    with connect(settings) as conn:
        return conn.execute(
            "select rows_in, rows_out, rows_rejected, details from ops.run_log"
            " where step = %s and entity = 'order_item' and ds = %s order by run_id desc limit 1",
            (step, ds),
        ).fetchone()


def test_latest_version_wins_and_an_old_orders_update_leaves_its_partition_alone(spark, lake_settings, ods):
    # Day 1: two orders land and are published into partition 2025-11-01.
    ods.write(
        day(1),
        [
            ods.order("OLD-1", purchased="2025-11-01T09:00:00Z", status="Unshipped", buyer_no=1),
            ods.order("OLD-2", purchased="2025-11-01T11:00:00Z", status="Shipped", buyer_no=2),
        ],
    )
    first = run_order_items(spark, lake_settings, day(1))
    assert first.partitions == {day(1): 2}

    a_items = [ods.item("A-1", qty=2, amount="45.98"), ods.item("A-2", asin="B0TEST0002", amount="5.00")]
    a = dict(purchased="2025-11-05T10:00:00Z", items=a_items, buyer_no=3)
    b = dict(purchased="2025-11-05T23:59:59Z", items=[ods.item("B-1", amount="7.50")], buyer_no=4)
    shipped = ods.order("A", **a, updated="2025-11-06T08:00:00Z", status="Shipped")
    days = {n: [] for n in range(2, 10)}  # every ODS day of the window lands, most of them empty
    days[5] = [ods.order("A", **a, status="Unshipped"), ods.order("B", **b, status="Pending")]
    # Same-day duplicates, the newer version first in the file.
    days[6] = [
        ods.order("B", **b, updated="2025-11-06T09:00:00Z", status="Canceled"),
        shipped,
        ods.order("A", **a, updated="2025-11-05T12:00:00Z", status="Unshipped"),
        shipped,
    ]
    # A stale version delivered late: a later ODS day must not beat a later LastUpdateDate.
    days[7] = [ods.order("A", **a, updated="2025-11-05T13:00:00Z", status="Unshipped")]
    bad_buyer = ods.order("NOBUYER", purchased="2025-11-08T10:00:00Z", buyer_no=5)
    bad_buyer["BuyerInfo"] = {}
    days[8] = [
        "{not json",
        bad_buyer,
        ods.order("NEG", purchased="2025-11-08T10:00:00Z", items=[ods.item("NEG-1", amount="-1.00")]),
    ]
    # OLD-1 (placed 11-01, outside [11-02, 11-09]) changes inside the window.
    days[9] = [
        ods.order("OLD-1", purchased="2025-11-01T09:00:00Z", updated="2025-11-09T07:00:00Z", status="Shipped")
    ]
    for n, records in days.items():
        ods.write(day(n), records)

    counts = run_order_items(spark, lake_settings, day(9))

    assert counts.window_start == day(2)
    assert counts.ods_partitions == tuple(day(n) for n in range(2, 10))
    rows = {r["order_item_id"]: r for r in dwd_rows(lake_settings)}
    assert set(rows) == {"OLD-1-1", "OLD-2-1", "A-1", "A-2", "B-1", "NEG-1"}
    # The old partition keeps both orders and OLD-1 its published state: no partial rewrite.
    assert rows["OLD-1-1"]["ds"] == "2025-11-01" and rows["OLD-1-1"]["channel_status"] == "Unshipped"
    assert rows["OLD-2-1"]["ds"] == "2025-11-01"
    assert counts.outside_window == 1
    # Latest LastUpdateDate wins over file order and over a later ODS day.
    assert rows["A-1"]["channel_status"] == "Shipped" and rows["A-1"]["order_status"] == "shipped"
    assert rows["A-1"]["updated_at"] == datetime(2025, 11, 6, 8, tzinfo=UTC)
    assert (rows["A-1"]["quantity"], rows["A-1"]["unit_price"], rows["A-1"]["item_amount"]) == (
        2,
        Decimal("22.99"),
        Decimal("45.98"),
    )
    assert rows["B-1"]["order_status"] == "cancelled" and rows["B-1"]["ds"] == "2025-11-05"  # UTC date
    assert rows["A-1"]["customer_key"] == customer_key("C0000003", lake_settings.pii_hash_key)
    assert rows["A-1"]["buyer_email_masked"] == "b***@marketplace.amazon.com"
    # A: 5 versions x 2 items, 4 superseded; B: 2 versions, 1 superseded.
    assert counts.duplicates_dropped == 4 * 2 + 1
    assert counts.rows_rejected == 2  # what cannot be typed is quarantined...
    assert counts.rejected_reasons == {
        "malformed JSON or a field of the wrong type": 1,
        "missing BuyerInfo.BuyerId": 1,
    }
    # ...while a typed rule violation is published, so the quality gate stops the day and says why.
    assert rows["NEG-1"]["unit_price"] == Decimal("-1.00") and rows["NEG-1"]["ds"] == "2025-11-08"
    with pytest.raises(
        DataQualityError, match=r"ds=2025-11-08[\s\S]*unit_price >= 0\]: 1 unexpected, e.g. -1.00"
    ):
        validate_dwd_partitions(lake_settings, "order_item", list(counts.partitions))
    assert counts.partitions == {day(5): 3, day(8): 1}
    assert counts.reconciles and counts.rows_in == 16  # item rows of 11 ODS records

    quarantine = local_path(Lake(lake_settings.lake_uri).ods_quarantine("orders", "order_item", day(9)))
    rejected = [
        json.loads(line)
        for path in quarantine.glob("part-*.json.gz")
        for line in gzip.decompress(path.read_bytes()).decode().splitlines()
    ]
    assert sorted(r["order_id"] or "" for r in rejected) == ["", "NOBUYER"]
    assert all(r["ods_ds"] == "2025-11-08" and r["reason"] and r["rows"] == 1 for r in rejected)

    rows_in, rows_out, rows_rejected, details = last_run_log(lake_settings, "spark_dwd", day(9))
    assert (rows_in, rows_out, rows_rejected) == (16, 4, 2)
    assert details["partitions"] == {"2025-11-05": 3, "2025-11-08": 1} and details["duplicates_dropped"] == 9


def test_rerun_is_identical_and_every_amazon_status_maps(spark, lake_settings, ods):
    ds = day(10, month=10)
    records = [
        ods.order(
            f"S-{status}",
            purchased=f"2025-10-10T{i:02d}:00:00Z",
            status=status,
            buyer_no=i,
            items=[ods.item(f"S-{status}-{j}", qty=j + 1, amount=f"{3.33 * (j + 1):.2f}") for j in range(2)],
            marketplace=ods.UK if i % 2 else ods.US,
        )
        for i, status in enumerate(sorted(AMAZON))
    ]
    ods.write(ds, records)
    table = local_path(Lake(lake_settings.lake_uri).dwd_table("order_item"))

    run_order_items(spark, lake_settings, ds)
    first_rows = dwd_rows(lake_settings)
    first_files = {p.relative_to(table).parent: p.read_bytes() for p in table.rglob("*.parquet")}
    run_order_items(spark, lake_settings, ds)
    second_files = {p.relative_to(table).parent: p.read_bytes() for p in table.rglob("*.parquet")}

    assert dwd_rows(lake_settings) == first_rows
    assert list(first_files) == [Path("ds=2025-10-10/source=orders")]  # one file per partition
    assert second_files == first_files  # byte-identical output
    assert {r["channel_status"]: r["order_status"] for r in first_rows} == dict(AMAZON)
    assert {r["marketplace"] for r in first_rows} == {"US", "UK"}
    assert {r["unit_price"] for r in first_rows} == {Decimal("3.33")}

    # Every order of the day now fails (no buyer): the day's partition must not keep its old rows.
    for record in records:
        record["BuyerInfo"] = {}
    ods.write(ds, records)
    emptied = run_order_items(spark, lake_settings, ds)
    assert emptied.emptied == (ds,) and emptied.rows_rejected == 16 and emptied.partitions == {}
    assert not (table / "ds=2025-10-10").exists()


def test_unknown_status_is_a_clear_error_naming_the_order(spark, lake_settings, ods):
    ds = day(20, month=10)
    ods.write(
        ds,
        [
            ods.order("GOOD-1", purchased="2025-10-20T01:00:00Z"),
            ods.order("113-9999999-0000001", purchased="2025-10-20T01:00:00Z", status="Teleported"),
        ],
    )

    with pytest.raises(UnknownStatusError) as err:
        run_order_items(spark, lake_settings, ds)

    message = str(err.value)
    assert "113-9999999-0000001" in message and "'Teleported'" in message
    assert "orders/order" in message and "ods/orders/order/ds=2025-10-20" in message
    assert not local_path(Lake(lake_settings.lake_uri).dwd_table("order_item")).exists()  # nothing published


def test_unknown_marketplace_is_a_clear_error(spark, lake_settings, ods):
    ds = day(21, month=10)
    ods.write(ds, [ods.order("MP-1", purchased="2025-10-21T01:00:00Z", marketplace="A13V1IB3VIYZZH")])

    with pytest.raises(UnknownMarketplaceError, match=r"A13V1IB3VIYZZH.*AmazonOrderId MP-1.*ds=2025-10-21"):
        run_order_items(spark, lake_settings, ds)


def test_missing_ods_day_stops_the_run_and_a_gap_shortens_the_window(spark, lake_settings, ods):
    lake = Lake(lake_settings.lake_uri)
    for n in (1, 3, 4):
        ods.write(day(n, month=9), [])

    assert readable_ods_days(spark, lake, day(4, month=9), 7) == [day(3, month=9), day(4, month=9)]
    with pytest.raises(OdsPartitionMissingError, match=r"ds=2025-09-05.*has not landed"):
        run_order_items(spark, lake_settings, day(5, month=9))


def test_hash_key_never_appears_in_a_query_plan(spark, lake_settings, ods):
    settings = lake_settings.model_copy(
        update={"pii_hash_key_override": SecretStr("s3cr3t-Key-visible-if-leaked")}
    )
    ods.write(day(2, month=9), [ods.order("K-1", purchased="2025-09-02T01:00:00Z")])
    lake = Lake(settings.lake_uri)

    records = pseudonymise(read_ods(spark, lake, [day(2, month=9)]), spark, settings.pii_hash_key)
    dwd = to_dwd(classify(records, day(2, month=9), day(2, month=9)))
    plans = dwd._jdf.queryExecution().toString()  # parsed, analysed, optimised and physical plans

    assert "_pii_key" in plans and "sha2" in plans  # the hash is in the plan...
    assert "s3cr3t-Key-visible-if-leaked" not in plans  # ...its key is not
