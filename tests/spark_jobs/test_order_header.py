"""DWD ``orders`` (one header per order) from DWD ``order_item``, through the pipeline's build and load steps.

Real Spark, real Postgres, ODS landed three ways: by the real connector from the real sandbox, by hand in
the connector's format (to pin a late update and a cancellation), and by the Olist importer. Headers are
checked against the DWD item rows they summarise, and Postgres against the Parquet it mirrors.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from psycopg.rows import dict_row

from connectors.http import HttpConfig
from connectors.importers import MAPPINGS_DIR, import_export
from connectors.ingest import ingest_source_day
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import sandbox_server
from ops.pipeline import build_dwd, load_dwd
from ops.settings import Settings
from spark_jobs.channels import API_SOURCE as SOURCE
from spark_jobs.order_header import InconsistentOrderError, run_order_headers
from storage.lake import Lake, local_path
from storage.warehouse import connect

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
ORDER_LEVEL = (
    "marketplace_id",
    "marketplace",
    "sales_channel",
    "customer_key",
    "buyer_email_masked",
    "order_status",
    "channel_status",
    "purchased_at",
    "updated_at",
    "currency",
    "reporting_currency",
    "fx_rate",
)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def lake_rows(settings: Settings, entity: str) -> list[dict[str, Any]]:
    """Every row of a DWD table with its ``ds`` (a date) and ``source`` partition directories."""
    root = local_path(Lake(settings.lake_uri).dwd_table(entity))
    table = pads.dataset(root, format="parquet", partitioning="hive").to_table()
    return [{**row, "ds": date.fromisoformat(str(row["ds"]))} for row in table.to_pylist()]


def headers_by_id(settings: Settings) -> dict[str, dict[str, Any]]:
    rows = lake_rows(settings, "orders")
    by_id = {row["order_id"]: row for row in rows}
    assert len(by_id) == len(rows), "one header per order"
    return by_id


def parquet_files(settings: Settings, entity: str) -> dict[Path, bytes]:
    """File content by partition directory (file names carry a write id); one file per partition."""
    root = local_path(Lake(settings.lake_uri).dwd_table(entity))
    files = sorted(root.glob("ds=*/source=*/*.parquet"))
    by_dir = {p.relative_to(root).parent: p.read_bytes() for p in files}
    assert len(by_dir) == len(files), "one file per (day, source) partition"
    return by_dir


def postgres_rows(settings: Settings, window: list[date]) -> list[dict[str, Any]]:
    with connect(settings) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute("select * from dwd.orders where ds = any(%s) order by ds, order_id", (window,))
        return cur.fetchall()


def last_run(settings: Settings, ds: date) -> tuple[int, int, dict[str, Any]]:
    with connect(settings) as conn:
        return conn.execute(
            "select rows_in, rows_out, details from ops.run_log"
            " where step = 'spark_dwd' and entity = 'orders' and ds = %s order by run_id desc limit 1",
            (ds,),
        ).fetchone()


def assert_headers_summarise_items(settings: Settings, source: str) -> dict[str, dict[str, Any]]:
    """Each order of DWD order_item has exactly one header whose values and totals are its items'."""
    items = [row for row in lake_rows(settings, "order_item") if row["source"] == source]
    headers = headers_by_id(settings)
    by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_order[item["order_id"]].append(item)
    assert set(headers) == set(by_order) and len(headers) > 0
    for order_id, lines in by_order.items():
        header = headers[order_id]
        assert header["source"] == source and header["ds"] == lines[0]["ds"]
        assert {k: header[k] for k in ORDER_LEVEL} == {k: lines[0][k] for k in ORDER_LEVEL}
        assert header["item_count"] == len(lines)
        assert header["units"] == sum(line["quantity"] for line in lines)
        assert header["order_amount"] == sum((line["item_amount"] for line in lines), Decimal(0))
        assert header["order_amount_reporting"] == sum(
            (line["item_amount_reporting"] for line in lines), Decimal(0)
        )
        assert header["is_cancelled"] == (header["order_status"] == "cancelled")
    return headers


def assert_postgres_mirrors_parquet(settings: Settings, window: list[date]) -> None:
    parquet = sorted(
        (row for row in lake_rows(settings, "orders") if row["ds"] in window),
        key=lambda row: (row["ds"], row["order_id"]),
    )
    loaded = postgres_rows(settings, window)
    assert len(loaded) == len(parquet) > 0
    for pg, lake_row in zip(loaded, parquet, strict=True):
        assert pg == {name: lake_row[name] for name in pg}, pg["order_id"]


def land_sandbox_orders(settings: Settings, lake_dir: Path, window: list[date]) -> Settings:
    """Orders days landed by the real connector from the sandbox (25% of records served twice)."""
    config = SandboxConfig(
        seed=31, rate_limit_per_second=500.0, rate_limit_burst=100, faults=FaultConfig(duplicate_rate=0.25)
    )
    with sandbox_server(config, port=0) as sandbox:
        lake = {"sandbox_port": sandbox.port, "lake_uri_override": lake_dir.as_uri()}
        run = settings.model_copy(update=lake)
        for day in window:
            http = HttpConfig(run.source_url("orders"), 500.0, backoff_initial_seconds=0.02)
            ingest_source_day(run, "orders", day, http=http)
    return run


def test_sandbox_orders_have_one_header_each_that_reruns_and_loads_identically(spark, settings, tmp_path):
    window = days(date(2025, 11, 3), date(2025, 11, 5))
    landed = land_sandbox_orders(settings, tmp_path / "lake", window)

    built = build_dwd(landed, window[0], window[-1], [SOURCE])

    headers = assert_headers_summarise_items(landed, "orders")
    assert (
        built["orders"]["rows_out"] == len(headers)
        and built["orders"]["rows_in"] == built["order_item"]["rows_out"]
    )
    assert {h["ds"] for h in headers.values()} == set(window)
    statuses = {h["order_status"] for h in headers.values()}
    assert "cancelled" in statuses and any(h["is_cancelled"] for h in headers.values())
    assert any(h["updated_at"].date() > h["ds"] for h in headers.values()), "late updates reach headers"
    rows_in, rows_out, details = last_run(landed, window[-1])
    assert (rows_in, rows_out) == (built["order_item"]["rows_out"], len(headers)) and details["reconciles"]
    assert details["source"] == "orders" and sum(details["partitions"].values()) == len(headers)

    first = parquet_files(landed, "orders")
    assert sorted(first) == [Path(f"ds={d}/source=orders") for d in window]
    rebuilt = build_dwd(landed, window[0], window[-1], [SOURCE])
    assert parquet_files(landed, "orders") == first, "a rerun writes the same bytes"

    loaded = load_dwd(landed, rebuilt)
    assert loaded["orders"] == len(headers)
    assert_postgres_mirrors_parquet(landed, window)


def test_a_late_update_moves_the_header_to_the_latest_status_and_totals_are_exact(spark, lake_settings, ods):
    d1, d2 = date(2025, 11, 10), date(2025, 11, 11)
    a_items = [
        ods.item("HA-1", qty=2, amount="0.10"),
        ods.item("HA-2", asin="B0TEST0002", qty=1, amount="0.20"),
        ods.item("HA-3", asin="B0TEST0003", qty=3, amount="59.97"),
    ]
    a = dict(purchased="2025-11-10T08:00:00Z", items=a_items, buyer_no=11)
    b = dict(purchased="2025-11-10T23:30:00Z", items=[ods.item("HB-1", amount="12.34")], buyer_no=12)
    c_items = [
        ods.item("HC-1", amount="7.00", currency="GBP"),
        ods.item("HC-2", amount="3.01", currency="GBP"),
    ]
    c = dict(purchased="2025-11-10T12:00:00Z", items=c_items, buyer_no=13, marketplace=ods.UK)
    ods.write(d1, [ods.order("HA", **a), ods.order("HB", **b, status="Pending"), ods.order("HC", **c)])

    build_dwd(lake_settings, d1, d1, [SOURCE])
    before = headers_by_id(lake_settings)
    assert (before["HA"]["order_status"], before["HB"]["order_status"]) == ("paid", "pending")

    updates = [
        ods.order("HB", **b, updated="2025-11-11T09:00:00Z", status="Canceled"),
        ods.order("HA", **a, updated="2025-11-11T07:00:00Z", status="Shipped"),
    ]
    ods.write(d2, updates)
    built = build_dwd(lake_settings, d2, d2, [SOURCE])

    headers = assert_headers_summarise_items(lake_settings, "orders")
    assert set(headers) == {"HA", "HB", "HC"} and {h["ds"] for h in headers.values()} == {d1}
    ha, hb, hc = headers["HA"], headers["HB"], headers["HC"]
    assert (ha["order_status"], ha["channel_status"], ha["is_cancelled"]) == ("shipped", "Shipped", False)
    assert ha["updated_at"] == datetime(2025, 11, 11, 7, tzinfo=UTC)
    assert (ha["item_count"], ha["units"], ha["order_amount"]) == (3, 6, Decimal("60.27"))
    assert (hb["order_status"], hb["channel_status"], hb["is_cancelled"]) == ("cancelled", "Canceled", True)
    assert (hc["marketplace"], hc["currency"], hc["order_amount"]) == ("UK", "GBP", Decimal("10.01"))
    assert hc["reporting_currency"] == lake_settings.reporting_currency

    load_dwd(lake_settings, built)
    assert_postgres_mirrors_parquet(lake_settings, [d1])
    with connect(lake_settings) as conn:
        cancelled = conn.execute(
            "select order_id from dwd.orders where ds = %s and is_cancelled", (d1,)
        ).fetchall()
    assert cancelled == [("HB",)]


def test_olist_import_produces_headers_beside_its_items(spark, lake_settings):
    start, end = date(2017, 3, 1), date(2017, 3, 7)
    import_export(lake_settings, MAPPINGS_DIR / "olist.toml", start, end, data_dir=DATASETS)

    built = build_dwd(lake_settings, start, end, ["olist"])

    headers = assert_headers_summarise_items(lake_settings, "olist")
    assert len(headers) > 100 and built["orders"]["rows_out"] == len(headers)
    assert all(order_id.startswith("olist:") for order_id in headers)
    assert {(h["marketplace"], h["currency"]) for h in headers.values()} == {("BR", "BRL")}
    assert any(h["item_count"] > 1 for h in headers.values()), "multi-item orders are summed"
    assert sorted(parquet_files(lake_settings, "orders")) == sorted(
        Path(f"ds={d}/source=olist") for d in {h["ds"] for h in headers.values()}
    )

    load_dwd(lake_settings, built)
    assert_postgres_mirrors_parquet(lake_settings, days(start, end))


def write_items(settings: Settings, day: date, table: Any, source: str = "orders") -> Path:
    """A hand-made DWD order_item sub-partition, as the item job lays it out."""
    folder = local_path(Lake(settings.lake_uri).dwd_partition("order_item", day)) / f"source={source}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-00000.snappy.parquet")
    return folder


def test_headers_follow_their_item_days_and_refuse_an_order_with_two_currencies(spark, lake_settings, dwd):
    d1, d2 = date(2025, 11, 20), date(2025, 11, 21)
    write_items(lake_settings, d1, dwd.rows(d1, 3))
    second = write_items(lake_settings, d2, dwd.rows(d2, 2))

    counts = run_order_headers(spark, lake_settings, d1, d2)
    assert counts.partitions == {d1: 3, d2: 2} and counts.rows_in == 5 and counts.reconciles
    assert sorted(parquet_files(lake_settings, "orders")) == [Path(f"ds={d}/source=orders") for d in (d1, d2)]

    shutil.rmtree(second.parent)  # the item job emptied d2: its headers must go too
    counts = run_order_headers(spark, lake_settings, d1, d2)
    assert counts.partitions == {d1: 3} and counts.emptied == (d2,)
    assert not local_path(Lake(lake_settings.lake_uri).dwd_partition("orders", d2)).exists()

    rows = dwd.rows(d2, 2)
    one_order = rows.set_column(
        rows.schema.get_field_index("order_id"), "order_id", pa.array(["113-SPLIT", "113-SPLIT"])
    )
    mixed = one_order.set_column(
        rows.schema.get_field_index("currency"), "currency", pa.array(["USD", "GBP"])
    )
    write_items(lake_settings, d2, mixed)
    # The fixture's two rows also differ in buyer: every disagreeing column is named.
    expected = r"113-SPLIT \(customer_key, buyer_email_masked, currency\)"
    with pytest.raises(InconsistentOrderError, match=expected):
        run_order_headers(spark, lake_settings, d1, d2)
    # Nothing was written: the previous headers stand until the items are fixed.
    assert sorted(parquet_files(lake_settings, "orders")) == [Path(f"ds={d1}/source=orders")]


def test_the_dwd_gate_checks_order_headers_and_names_a_broken_one(spark, lake_settings, ods):
    from ops.quality.engine import DataQualityError
    from ops.quality.gates import validate_dwd

    day = date(2025, 11, 12)
    ods.write(day, [ods.order("GA", purchased="2025-11-12T08:00:00Z", items=[ods.item("GA-1")], buyer_no=21)])
    built = build_dwd(lake_settings, day, day, [SOURCE])
    assert validate_dwd(lake_settings, day, day, built)["checked"]["orders"] == 1

    # a header whose cancelled flag contradicts its (paid) status must not reach Postgres
    (path,) = (local_path(Lake(lake_settings.lake_uri).dwd_table("orders")) / f"ds={day}").glob("*/*.parquet")
    table = pq.read_table(path)
    column = table.schema.get_field_index("is_cancelled")
    pq.write_table(table.set_column(column, "is_cancelled", pa.array([True])), path)
    with pytest.raises(DataQualityError) as err:
        validate_dwd(lake_settings, day, day, built)
    assert str(err.value).startswith("DWD orders: 1 of 1 partitions failed") and f"orders ds={day}" in str(
        err.value
    )
    assert "is_cancelled == (order_status is cancelled)" in str(err.value)
