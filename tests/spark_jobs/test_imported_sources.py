"""The order-item job on the file-export importers' ODS (Olist, UCI) next to the Orders API's, in one table.

Real data: the importers land the shared datasets exactly as ``python -m connectors.importers`` does, and
the DWD rows are checked against what landed (counts and GMV per day, statuses), not against a restatement.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.dataset as pads
import pytest

from connectors.importers import MAPPINGS_DIR, import_export
from ops.quality.dwd import validate_dwd_partitions
from ops.settings import Settings
from spark_jobs.channels import PROFILES, UnknownSourceError, profile_for
from spark_jobs.marketplaces import UnknownMarketplaceError
from spark_jobs.order_items import main, run_order_items
from spark_jobs.statuses import OLIST, UnknownStatusError
from storage.lake import Lake, local_path
from storage.loader import load_dwd_partitions
from storage.warehouse import connect

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
UCI = "uci_online_retail"


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def landed(settings: Settings, source: str, window: list[date]) -> dict[date, list[dict[str, Any]]]:
    """The ODS item lines of each day, flattened with their order's fields, as the importer landed them."""
    lake = Lake(settings.lake_uri)
    items: dict[date, list[dict[str, Any]]] = {}
    for day in window:
        folder = local_path(lake.ods_partition(source, "order", day))
        records = [
            json.loads(line)
            for p in folder.glob("*.jsonl.gz")
            for line in gzip.decompress(p.read_bytes()).decode().splitlines()
        ]
        items[day] = [{**item, "order": record} for record in records for item in record["OrderItems"]]
    return items


def per_day(rows: list[dict[str, Any]]) -> dict[str, tuple[int, Decimal]]:
    """Item rows and GMV (sum of item amounts) by day."""
    totals: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for row in rows:
        totals[row["ds"]][0] += 1
        totals[row["ds"]][1] += row["amount"]
    return {ds: (n, gmv) for ds, (n, gmv) in totals.items()}


def dwd_rows(settings: Settings, source: str | None = None) -> list[dict[str, Any]]:
    """DWD order_item rows with ds and source (the two partition directories) as columns."""
    root = local_path(Lake(settings.lake_uri).dwd_table("order_item"))
    table = pads.dataset(root, format="parquet", partitioning="hive").to_table()
    rows = [{**row, "ds": str(row["ds"])} for row in table.to_pylist()]
    return sorted(
        (r for r in rows if source in (None, r["source"])), key=lambda r: (r["ds"], r["order_item_id"])
    )


def source_files(settings: Settings, source: str) -> dict[Path, bytes]:
    """The Parquet content of one source's sub-partitions, by directory (file names carry a write id)."""
    root = local_path(Lake(settings.lake_uri).dwd_table("order_item"))
    files = sorted(root.glob(f"ds=*/source={source}/*.parquet"))
    by_dir = {p.relative_to(root).parent: p.read_bytes() for p in files}
    assert len(by_dir) == len(files), "one file per (day, source) partition"
    return by_dir


def expected_by_day(items: dict[date, list[dict[str, Any]]]) -> dict[str, tuple[int, Decimal]]:
    flat = [
        {"ds": day.isoformat(), "amount": Decimal(i["ItemPrice"]["Amount"])}
        for day, lines in items.items()
        for i in lines
    ]
    return per_day(flat)


def dwd_by_day(rows: list[dict[str, Any]]) -> dict[str, tuple[int, Decimal]]:
    return per_day([{"ds": r["ds"], "amount": r["item_amount"]} for r in rows])


def test_olist_import_becomes_dwd_with_its_own_statuses_and_marketplace(spark, lake_settings):
    start, end = date(2017, 3, 1), date(2017, 3, 7)
    import_export(lake_settings, MAPPINGS_DIR / "olist.toml", start, end, data_dir=DATASETS)
    items = landed(lake_settings, "olist", days(start, end))

    counts = run_order_items(spark, lake_settings, end, source="olist")

    rows = dwd_rows(lake_settings)
    expected = expected_by_day(items)
    assert len(rows) > 100 and {r["source"] for r in rows} == {"olist"}
    assert dwd_by_day(rows) == expected  # row count and GMV of every day equal what landed
    assert {d.isoformat(): n for d, n in counts.partitions.items()} == {
        d: n for d, (n, _) in expected.items()
    }
    assert counts.window_start == start and counts.rows_rejected == 0 and counts.reconciles
    # Ids carry the source prefix; each DWD row is one landed item.
    landed_ids = {f"olist:{i['OrderItemId']}": i for lines in items.values() for i in lines}
    assert {r["order_item_id"] for r in rows} == set(landed_ids)
    assert all(
        r["order_id"] == f"olist:{landed_ids[r['order_item_id']]['order']['AmazonOrderId']}" for r in rows
    )
    # Statuses come from Olist's own vocabulary (ChannelOrderStatus), so delivered stays delivered.
    for row in rows:
        raw = landed_ids[row["order_item_id"]]["order"]
        assert row["channel_status"] == raw["ChannelOrderStatus"]
        assert row["order_status"] == OLIST[raw["ChannelOrderStatus"]]
    statuses = {(r["channel_status"], r["order_status"]) for r in rows}
    assert ("delivered", "delivered") in statuses
    assert {r["marketplace"] for r in rows} == {"BR"} and {r["currency"] for r in rows} == {"BRL"}

    summary = validate_dwd_partitions(lake_settings, "order_item", days(start, end))
    assert summary.success and set(summary.partitions) == set(counts.partitions)

    first = source_files(lake_settings, "olist")
    run_order_items(spark, lake_settings, end, source="olist")
    assert source_files(lake_settings, "olist") == first  # a rerun writes the same bytes
    assert sorted(first) == [Path(f"ds={d}/source=olist") for d in sorted(counts.partitions)]


def test_uci_and_api_rows_share_a_day_and_never_overwrite_each_other(spark, lake_settings, ods):
    start, end, mixed = date(2011, 3, 1), date(2011, 3, 4), date(2011, 3, 3)
    import_export(lake_settings, MAPPINGS_DIR / "uci_online_retail.toml", start, end, data_dir=DATASETS)
    items = landed(lake_settings, UCI, days(start, end))

    uci_counts = run_order_items(spark, lake_settings, end, source=UCI)
    uci_rows = dwd_rows(lake_settings, UCI)
    assert dwd_by_day(uci_rows) == expected_by_day(items)
    assert sum(uci_counts.partitions.values()) == len(uci_rows) > 500
    assert {r["marketplace"] for r in uci_rows} == {"GB-UCI"}  # not Amazon's "UK"
    assert {r["channel_status"]: r["order_status"] for r in uci_rows} == {
        "Shipped": "shipped",
        "Canceled": "cancelled",
    }
    assert {r["order_item_id"] for r in uci_rows} == {
        f"{UCI}:{i['OrderItemId']}" for lines in items.values() for i in lines
    }
    uci_files = source_files(lake_settings, UCI)

    # An API order on the same day whose raw ids equal a UCI invoice's: the prefix keeps them apart.
    clash = items[mixed][0]
    api_order = ods.order(
        clash["order"]["AmazonOrderId"],
        purchased=f"{mixed}T10:00:00Z",
        marketplace=ods.UK,
        items=[ods.item(clash["OrderItemId"], amount="12.00", currency="GBP")],
    )
    ods.write(mixed, [api_order])
    api_counts = run_order_items(spark, lake_settings, mixed)  # the DAG's call: source "orders"

    assert api_counts.partitions == {mixed: 1}
    assert source_files(lake_settings, UCI) == uci_files  # the API run left the imported rows as they were
    on_mixed = [r for r in dwd_rows(lake_settings) if r["ds"] == mixed.isoformat()]
    ids = [r["order_item_id"] for r in on_mixed]
    assert (
        clash["OrderItemId"] in ids and f"{UCI}:{clash['OrderItemId']}" in ids and len(set(ids)) == len(ids)
    )
    summary = validate_dwd_partitions(lake_settings, "order_item", days(start, end))
    assert summary.success and summary.partitions[mixed].rows == len(items[mixed]) + 1

    # The loader, unchanged, reads every source's sub-partition of the day into the one Postgres table.
    assert load_dwd_partitions(lake_settings, "order_item", [mixed]) == {mixed: len(items[mixed]) + 1}
    with connect(lake_settings) as conn:
        by_marketplace = dict(
            conn.execute(
                "select marketplace, count(*) from dwd.order_item where ds = %s group by 1", (mixed,)
            ).fetchall()
        )
    assert by_marketplace == {"GB-UCI": len(items[mixed]), "UK": 1}

    # ...and vice versa: rerunning the import source leaves the API rows alone (and its own identical).
    api_files = source_files(lake_settings, "orders")
    run_order_items(spark, lake_settings, end, source=UCI)
    assert source_files(lake_settings, "orders") == api_files
    assert source_files(lake_settings, UCI) == uci_files

    # The API's day loses all its rows: only its sub-partition goes, the imported rows of the day stay.
    api_order["BuyerInfo"] = {}
    ods.write(mixed, [api_order])
    emptied = run_order_items(spark, lake_settings, mixed)
    assert emptied.emptied == (mixed,) and emptied.partitions == {}
    assert source_files(lake_settings, "orders") == {}
    assert source_files(lake_settings, UCI) == uci_files


def test_api_run_replaces_a_partition_written_before_sources_had_sub_partitions(
    spark, lake_settings, ods, dwd
):
    day = date(2025, 7, 1)
    legacy = dwd.write("order_item", day, dwd.rows(day, 3))  # ds=…/part-00000.snappy.parquet
    ods.write(day, [ods.order("NEW-1", purchased="2025-07-01T08:00:00Z")])

    run_order_items(spark, lake_settings, day)

    assert [r["order_item_id"] for r in dwd_rows(lake_settings)] == ["NEW-1-1"]  # old rows not read twice
    assert not any(p.is_file() for p in legacy.iterdir())
    assert validate_dwd_partitions(lake_settings, "order_item", [day]).partitions[day].rows == 1


def test_unknown_import_vocabulary_is_a_clear_error_naming_source_and_record(spark, lake_settings, ods):
    day = date(2017, 4, 2)
    record = ods.order("abc123", purchased="2017-04-02T12:00:00Z", status="Shipped", marketplace="OLIST-BR")
    record["ChannelOrderStatus"] = "lost_in_space"
    ods.write(day, [record], source="olist")
    with pytest.raises(UnknownStatusError) as err:
        run_order_items(spark, lake_settings, day, source="olist")
    message = str(err.value)
    assert "ChannelOrderStatus='lost_in_space'" in message and "abc123" in message
    assert "ods/olist/order/ds=2017-04-02" in message and "olist map in spark_jobs/statuses.py" in message

    ods.write(day, [ods.order("536365", purchased="2017-04-02T12:00:00Z", marketplace="UCI-DE")], source=UCI)
    with pytest.raises(UnknownMarketplaceError, match=r"MarketplaceId='UCI-DE'.*536365.*uci_online_retail"):
        run_order_items(spark, lake_settings, day, source=UCI)
    assert not local_path(Lake(lake_settings.lake_uri).dwd_table("order_item")).exists()


def test_profiles_and_command_line():
    assert OLIST == {
        "created": "pending",
        "approved": "paid",
        "invoiced": "paid",
        "processing": "paid",
        "shipped": "shipped",
        "delivered": "delivered",
        "canceled": "cancelled",
        "unavailable": "cancelled",
    }
    assert PROFILES["orders"].id_prefix == ""  # API ids unchanged
    assert {p.id_prefix for p in PROFILES.values() if p.source != "orders"} == {"olist:", f"{UCI}:"}
    marketplaces = [code for p in PROFILES.values() for code in p.marketplaces.values()]
    assert len(marketplaces) == len(set(marketplaces))  # no two sources share a marketplace code
    with pytest.raises(UnknownSourceError, match=r"'shopify'.*known: \['olist', 'orders'"):
        profile_for("shopify")
    with pytest.raises(SystemExit) as exit_:  # rejected before any Spark session starts
        main(["--source", "shopify", "--ds", "2017-03-01"])
    assert exit_.value.code == 2
