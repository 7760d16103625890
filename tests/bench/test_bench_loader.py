"""Benchmark: the DWD loader (Arrow → binary COPY) against ``psql \\copy`` of the same rows.

Prints ``bench:`` and ``ratio:`` lines (DESIGN.md §9); run with ``make bench``.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from storage.embedded_pg import BIN_DIR
from storage.lake import Lake, local_path
from storage.loader import load_dwd_partitions
from tests.bench.size import sized

ROWS = sized(500_000, 2_000)
DAY = date(2024, 6, 1)

pytestmark = pytest.mark.bench


def _order_items(rows: int) -> pa.Table:
    rng = np.random.default_rng(7)
    purchased = datetime(2024, 6, 1, tzinfo=UTC)
    quantity = rng.integers(1, 4, rows)
    unit_price = np.round(rng.uniform(3, 120, rows), 2)
    seconds = rng.integers(0, 86_400, rows)
    return pa.table(
        {
            "order_item_id": [f"it-{i:09d}" for i in range(rows)],
            "order_id": [f"113-{i // 2:07d}" for i in range(rows)],
            "marketplace_id": ["ATVPDKIKX0DER"] * rows,
            "marketplace": ["US"] * rows,
            "sales_channel": ["Amazon.com"] * rows,
            "customer_key": [f"{i % 20_000:064x}" for i in range(rows)],
            "buyer_email_masked": ["a***@marketplace.amazon.com"] * rows,
            "asin": [f"B0{i % 2000:08d}" for i in range(rows)],
            "seller_sku": [f"SKU-{i % 2000}" for i in range(rows)],
            "quantity": pa.array(quantity, pa.int32()),
            "unit_price": pa.array([str(p) for p in unit_price]).cast(pa.decimal128(12, 2)),
            "item_amount": pa.array([f"{p * q:.2f}" for p, q in zip(unit_price, quantity, strict=True)]).cast(
                pa.decimal128(14, 2)
            ),
            "currency": ["USD"] * rows,
            "channel_status": ["Shipped"] * rows,
            "order_status": ["shipped"] * rows,
            "purchased_at": pa.array(
                [purchased + timedelta(seconds=int(s)) for s in seconds], pa.timestamp("us", "UTC")
            ),
            "updated_at": pa.array(
                [purchased + timedelta(seconds=int(s) + 60) for s in seconds], pa.timestamp("us", "UTC")
            ),
            "reporting_currency": ["USD"] * rows,
            "fx_rate": pa.array(["1"] * rows).cast(pa.decimal128(20, 10)),
            "unit_price_reporting": pa.array([str(p) for p in unit_price]).cast(pa.decimal128(18, 2)),
            "item_amount_reporting": pa.array(
                [f"{p * q:.2f}" for p, q in zip(unit_price, quantity, strict=True)]
            ).cast(pa.decimal128(18, 2)),
        }
    )


def test_loader_vs_psql_copy(settings, tmp_path):
    table = _order_items(ROWS)
    partition = local_path(Lake(settings.lake_uri).dwd_partition("order_item", DAY))
    partition.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, partition / "part-00000.parquet")

    started = time.monotonic()
    loaded = load_dwd_partitions(settings, "order_item", [DAY])
    loader_seconds = time.monotonic() - started
    assert loaded == {DAY: ROWS}

    csv_path = tmp_path / "order_items.csv"
    pacsv.write_csv(table.append_column("ds", pa.array([DAY] * ROWS, pa.date32())), csv_path)
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        conn.execute("drop table if exists dwd.order_item_psql_copy")
        conn.execute("create table dwd.order_item_psql_copy (like dwd.order_item including all)")
    columns = ", ".join([*table.column_names, "ds"])
    started = time.monotonic()
    subprocess.run(
        [
            str(BIN_DIR / "psql"),
            settings.warehouse_url,
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            f"\\copy dwd.order_item_psql_copy ({columns}) from '{csv_path}' with (format csv, header true)",
        ],
        check=True,
        capture_output=True,
    )
    psql_seconds = time.monotonic() - started
    with psycopg.connect(settings.warehouse_url) as conn:
        assert conn.execute("select count(*) from dwd.order_item_psql_copy").fetchone()[0] == ROWS

    print(f"\nbench: loader_rows_per_s: {ROWS / loader_seconds:.0f} rows/s")
    print(f"bench: psql_copy_rows_per_s: {ROWS / psql_seconds:.0f} rows/s")
    print(f"ratio: loader_vs_psql_copy: {psql_seconds / loader_seconds:.2f} (goal >= 0.7)")
