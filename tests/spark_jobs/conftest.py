"""ODS files in the connector's contract format and hand-made DWD partitions, in a per-test lake."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr

from ops.settings import Settings
from spark_jobs.pii import customer_key
from storage.lake import Lake, local_path

US = "ATVPDKIKX0DER"
UK = "A1F83G8C2ARO7P"


def buyer(n: int) -> dict[str, str]:
    """A buyer whose every PII field is unique and greppable."""
    return {
        "BuyerId": f"C{n:07d}",
        "BuyerEmail": f"buyer{n:05d}xyz@marketplace.amazon.com",
        "BuyerName": f"Zelda Quux{n:05d}",
        "BuyerPhone": f"+1 555 01{n:05d}",
    }


def item(item_id: str, asin: str = "B0TEST0001", qty: int = 1, amount: str = "10.00", currency: str = "USD"):
    return {
        "OrderItemId": item_id,
        "ASIN": asin,
        "SellerSKU": f"SKU-{asin}",
        "QuantityOrdered": qty,
        "ItemPrice": {"CurrencyCode": currency, "Amount": amount},
    }


def order(
    order_id: str,
    *,
    purchased: str = "2025-11-05T10:00:00Z",
    updated: str | None = None,
    status: str = "Unshipped",
    items: list[dict[str, Any]] | None = None,
    buyer_no: int = 1,
    marketplace: str = US,
) -> dict[str, Any]:
    """One raw SP-API order as the connector lands it."""
    lines = items if items is not None else [item(f"{order_id}-1")]
    total = sum(float(line["ItemPrice"]["Amount"]) for line in lines)
    return {
        "AmazonOrderId": order_id,
        "PurchaseDate": purchased,
        "LastUpdateDate": updated or purchased,
        "OrderStatus": status,
        "MarketplaceId": marketplace,
        "SalesChannel": "Amazon.com" if marketplace == US else "Amazon.co.uk",
        "BuyerInfo": buyer(buyer_no),
        "OrderTotal": {
            "CurrencyCode": lines[0]["ItemPrice"]["CurrencyCode"] if lines else "USD",
            "Amount": f"{total:.2f}",
        },
        "OrderItems": lines,
    }


def write_ods(
    settings: Settings, day: date, records: Iterable[dict[str, Any] | str], source: str = "orders"
) -> Path:
    """``ods/<source>/order/ds=<day>/part-00000.jsonl.gz`` + ``_manifest.json``; str records land verbatim."""
    folder = local_path(Lake(settings.lake_uri).ods_partition(source, "order", day))
    folder.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    with gzip.open(folder / "part-00000.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(line + "\n" for line in lines)
    # A manifest that would break the job if it were parsed as data.
    (folder / "_manifest.json").write_text(
        json.dumps({"records": len(lines), "checksum": "x", "cursor": "y"})
    )
    return folder


def dwd_order_items(day: date, n: int = 3) -> pa.Table:
    """A valid DWD order_item partition (as the Spark job writes it: no ds column inside the file)."""
    purchased = datetime(day.year, day.month, day.day, 12, 30, tzinfo=UTC)
    return pa.table(
        {
            "order_item_id": [f"{day:%Y%m%d}-{i}" for i in range(n)],
            "order_id": [f"113-{day:%Y%m%d}-{i}" for i in range(n)],
            "marketplace_id": [US] * n,
            "marketplace": ["US"] * n,
            "sales_channel": ["Amazon.com"] * n,
            "customer_key": [customer_key(f"C{i:07d}", SecretStr("k")) for i in range(n)],
            "buyer_email_masked": ["b***@marketplace.amazon.com"] * (n - 1) + [None],
            "asin": ["B0TEST0001"] * n,
            "seller_sku": ["SKU-1"] * n,
            "quantity": pa.array([2] * n, pa.int32()),
            "unit_price": pa.array([Decimal("4.50")] * n, pa.decimal128(12, 2)),
            "item_amount": pa.array([Decimal("9.00")] * n, pa.decimal128(14, 2)),
            "currency": ["USD"] * n,
            "channel_status": ["Shipped"] * n,
            "order_status": ["shipped"] * n,
            "purchased_at": pa.array([purchased] * n, pa.timestamp("us", tz="UTC")),
            "updated_at": pa.array([purchased] * n, pa.timestamp("us", tz="UTC")),
        }
    )


def write_dwd(settings: Settings, entity: str, day: date, table: pa.Table) -> Path:
    folder = local_path(Lake(settings.lake_uri).dwd_partition(entity, day))
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-00000.snappy.parquet")
    return folder


class Ods:
    """The ODS builders bound to one test's lake (fixtures are how importlib-mode tests share helpers)."""

    US, UK = US, UK
    buyer = staticmethod(buyer)
    item = staticmethod(item)
    order = staticmethod(order)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def write(self, day: date, records: Iterable[dict[str, Any] | str], source: str = "orders") -> Path:
        return write_ods(self.settings, day, records, source)


class Dwd:
    """Hand-made DWD partitions (pyarrow), for checks that must not depend on the Spark job."""

    rows = staticmethod(dwd_order_items)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def write(self, entity: str, day: date, table: pa.Table) -> Path:
        return write_dwd(self.settings, entity, day, table)


@pytest.fixture
def lake_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The session's Postgres with a lake of this test's own, so tests cannot see each other's files."""
    return settings.model_copy(update={"lake_uri_override": (tmp_path / "lake").as_uri()})


@pytest.fixture
def ods(lake_settings: Settings) -> Ods:
    return Ods(lake_settings)


@pytest.fixture
def dwd(lake_settings: Settings) -> Dwd:
    return Dwd(lake_settings)
