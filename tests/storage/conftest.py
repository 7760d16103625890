"""DWD partitions written with pyarrow, so loader tests do not depend on the Spark job."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ops.settings import Settings
from storage.lake import Lake, local_path


def order_items(day: date, n: int, *, status: str = "shipped", tag: str = "v1") -> pa.Table:
    """An order_item partition with deliberately loose Arrow types (int64, ms timestamps, wide decimals)
    that the loader must cast to the table's exact Postgres types."""
    at = datetime(day.year, day.month, day.day, 8, 15, 30, 123000, tzinfo=UTC)
    return pa.table(
        {
            "order_item_id": [f"{tag}-{i}" for i in range(n)],
            "order_id": [f"113-{tag}-{i}" for i in range(n)],
            "marketplace_id": ["ATVPDKIKX0DER"] * n,
            "marketplace": ["US"] * n,
            "sales_channel": ["Amazon.com"] * n,
            "customer_key": [f"{i:064x}" for i in range(n)],
            "buyer_email_masked": [None if i % 2 else "b***@marketplace.amazon.com" for i in range(n)],
            "asin": ["B0TEST0001"] * n,
            "seller_sku": [None] * n,
            "quantity": pa.array([i + 1 for i in range(n)], pa.int64()),
            "unit_price": pa.array([Decimal("12.34")] * n, pa.decimal128(18, 2)),
            "item_amount": pa.array([Decimal("12.34") * (i + 1) for i in range(n)], pa.decimal128(20, 2)),
            "currency": ["USD"] * n,
            "channel_status": ["Shipped"] * n,
            "order_status": [status] * n,
            "purchased_at": pa.array([at] * n, pa.timestamp("ms", tz="UTC")),
            "updated_at": pa.array([at] * n, pa.timestamp("us", tz="UTC")),
            "reporting_currency": ["EUR"] * n,
            "fx_rate": pa.array([Decimal("0.9215000000")] * n, pa.decimal128(20, 10)),
            "unit_price_reporting": pa.array([Decimal("11.37")] * n, pa.decimal128(18, 2)),
            "item_amount_reporting": pa.array(
                [Decimal("11.37") * (i + 1) for i in range(n)], pa.decimal128(20, 2)
            ),
        }
    )


def write_partition(settings: Settings, day: date, table: pa.Table) -> Path:
    folder = local_path(Lake(settings.lake_uri).dwd_partition("order_item", day))
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    pq.write_table(table, folder / "part-00000.snappy.parquet")
    (folder / "_SUCCESS").write_text("")  # as Spark leaves it; must not be read as data
    return folder


class Partitions:
    rows = staticmethod(order_items)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def write(self, day: date, table: pa.Table) -> Path:
        return write_partition(self.settings, day, table)


@pytest.fixture
def lake_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The session's Postgres with a lake of this test's own."""
    return settings.model_copy(update={"lake_uri_override": (tmp_path / "lake").as_uri()})


@pytest.fixture
def partitions(lake_settings: Settings) -> Partitions:
    return Partitions(lake_settings)
