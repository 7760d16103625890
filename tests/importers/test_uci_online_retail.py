"""UCI Online Retail, one month: invoices land as orders, unmappable rows are quarantined by line."""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.importers import MAPPINGS_DIR, import_export
from connectors.landing import Manifest
from connectors.orders import ORDER
from ops.settings import Settings
from tests.importers.conftest import DATASETS, landed, quarantined

FILE = DATASETS / "uci_online_retail" / "online_retail.csv.gz"
LABEL = "uci_online_retail/online_retail.csv.gz"
MAPPING = MAPPINGS_DIR / "uci_online_retail.toml"
START, END = date(2011, 3, 1), date(2011, 3, 31)
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def expected() -> dict:
    """The month's rows, read straight from the export (not through the importer)."""
    missing_customer: set[int] = set()
    bad_price: set[int] = set()
    items: Counter[date] = Counter()
    gmv = Decimal(0)
    cancelled: set[str] = set()
    with gzip.open(FILE, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            local = datetime.strptime(row["InvoiceDate"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=LONDON)
            day = local.astimezone(UTC).date()
            if not START <= day <= END:
                continue
            if not row["CustomerID"]:
                missing_customer.add(reader.line_num)
            elif Decimal(row["UnitPrice"]) <= 0:
                bad_price.add(reader.line_num)
            else:
                items[day] += 1
                if row["InvoiceNo"].startswith("C"):
                    cancelled.add(row["InvoiceNo"])
                else:
                    gmv += Decimal(row["Quantity"]) * Decimal(row["UnitPrice"])
    return {
        "missing": missing_customer,
        "bad_price": bad_price,
        "items": items,
        "gmv": gmv,
        "cancelled": cancelled,
    }


@pytest.fixture(scope="module")
def month(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[Manifest]]:
    lake = (tmp_path_factory.mktemp("uci") / "lake").as_uri()
    own = settings.model_copy(update={"lake_uri_override": lake})
    return own, import_export(own, MAPPING, START, END, data_dir=DATASETS)


def _day(manifest: Manifest) -> date:
    return date.fromisoformat(manifest.ds)


def test_month_lands_every_day_and_reconciles(month, expected) -> None:
    own, manifests = month
    assert [_day(m) for m in manifests] == [date(2011, 3, d) for d in range(1, 32)]
    for manifest in manifests:
        assert manifest.source == "uci_online_retail"
        assert manifest.records_received == manifest.records_landed + manifest.records_quarantined
        records = landed(own, "uci_online_retail", _day(manifest))
        assert all(ORDER.schema.validate(r) is None for r in records)
        assert sum(len(r["OrderItems"]) for r in records) == expected["items"][_day(manifest)]
    records = [r for m in manifests for r in landed(own, "uci_online_retail", _day(m))]
    assert {r["MarketplaceId"] for r in records} == {"UCI-UK"}
    assert {i["ItemPrice"]["CurrencyCode"] for r in records for i in r["OrderItems"]} == {"GBP"}
    shipped = [i for r in records if r["OrderStatus"] == "Shipped" for i in r["OrderItems"]]
    assert sum(Decimal(i["ItemPrice"]["Amount"]) for i in shipped) == expected["gmv"]


def test_cancellations_are_canceled_orders_with_positive_quantities(month, expected) -> None:
    own, manifests = month
    records = [r for m in manifests for r in landed(own, "uci_online_retail", _day(m))]
    cancelled = [r for r in records if r["AmazonOrderId"].startswith("C")]
    assert len(cancelled) > 50
    assert {r["AmazonOrderId"] for r in cancelled} == expected["cancelled"]
    assert {r["OrderStatus"] for r in cancelled} == {"Canceled"}
    assert all(i["QuantityOrdered"] > 0 for r in cancelled for i in r["OrderItems"])
    assert {r["OrderStatus"] for r in records if not r["AmazonOrderId"].startswith("C")} == {"Shipped"}


def test_unmappable_rows_are_quarantined_with_file_line_and_column(month, expected) -> None:
    own, manifests = month
    entries = [q for m in manifests for q in quarantined(own, "uci_online_retail", _day(m))]
    assert len(entries) == sum(m.records_quarantined for m in manifests)
    by_reason: dict[str, set[int]] = {}
    for entry in entries:
        prefix = f"{LABEL} line {entry['record']['line']}: "
        assert entry["reason"].startswith(prefix)
        by_reason.setdefault(entry["reason"].removeprefix(prefix), set()).add(entry["record"]["line"])
    assert by_reason == {
        "CustomerID is empty": expected["missing"],
        "UnitPrice is not a positive amount": expected["bad_price"],
    }
    assert len(expected["missing"]) > 1000  # the month really exercises the missing-customer path


def test_rerun_of_some_days_gives_identical_partitions(month) -> None:
    own, manifests = month
    first = {m.ds: m.checksum_sha256 for m in manifests}
    again = import_export(own, MAPPING, date(2011, 3, 7), date(2011, 3, 9), data_dir=DATASETS)
    assert [m.ds for m in again] == ["2011-03-07", "2011-03-08", "2011-03-09"]
    for manifest in again:
        assert manifest.checksum_sha256 == first[manifest.ds]
        assert manifest.records_landed > 0
