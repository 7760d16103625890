"""The Olist 2017 subset lands as SP-API-style order records whose counts and GMV reconcile to the CSVs."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.importers import MAPPINGS_DIR, import_export
from connectors.landing import Manifest
from connectors.orders import ORDER
from ops.settings import Settings
from tests.importers.conftest import DATASETS, landed, quarantined

SUBSET = DATASETS / "olist" / "subset_2017_10k_orders"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def _utc_day(local: str) -> date:
    moment = datetime.strptime(local, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SAO_PAULO)
    return moment.astimezone(UTC).date()


def _csv(name: str) -> list[dict[str, str]]:
    with open(SUBSET / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def expected() -> dict:
    """What the CSVs say, computed independently of the importer."""
    orders = _csv("olist_orders_dataset.csv")
    items = _csv("olist_order_items_dataset.csv")
    prices: dict[str, list[Decimal]] = defaultdict(list)
    for item in items:
        prices[item["order_id"]].append(Decimal(item["price"]))
    per_day: Counter[date] = Counter()
    statuses: Counter[str] = Counter()
    gmv = Decimal(0)
    without_items = {}
    for line, order in enumerate(orders, start=2):  # line 1 is the header; no field spans lines
        if order["order_id"] in prices:
            per_day[_utc_day(order["order_purchase_timestamp"])] += 1
            statuses[order["order_status"]] += 1
            gmv += sum(prices[order["order_id"]])
        else:
            without_items[order["order_id"]] = line
    return {
        "per_day": per_day,
        "statuses": statuses,
        "items": len(items),
        "gmv": gmv,
        "without_items": without_items,
    }


@pytest.fixture(scope="module")
def olist(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[Manifest]]:
    lake = (tmp_path_factory.mktemp("olist") / "lake").as_uri()
    own = settings.model_copy(update={"lake_uri_override": lake})
    return own, import_export(own, MAPPINGS_DIR / "olist.toml", data_dir=DATASETS)


def test_every_day_lands_with_reconciling_manifest(olist, expected) -> None:
    _, manifests = olist
    days = [date.fromisoformat(m.ds) for m in manifests]
    first, last = min(expected["per_day"]), max(expected["per_day"])
    assert days == [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]
    for manifest in manifests:
        assert manifest.source == "olist" and manifest.entity == "order"
        assert manifest.records_received == manifest.records_landed + manifest.records_quarantined
        assert manifest.duplicates == 0
        assert manifest.drift == ()  # the extras are declared fields, not drift
    landed_per_day = {date.fromisoformat(m.ds): m.records_landed for m in manifests if m.records_landed}
    assert landed_per_day == dict(expected["per_day"])


def test_records_satisfy_the_order_contract_and_gmv_reconciles(olist, expected) -> None:
    own, manifests = olist
    records = [r for m in manifests for r in landed(own, "olist", date.fromisoformat(m.ds))]
    assert all(ORDER.schema.validate(r) is None for r in records)
    items = [item for r in records for item in r["OrderItems"]]
    assert len(items) == expected["items"]
    assert len({i["OrderItemId"] for i in items}) == len(items)
    assert sum(Decimal(i["ItemPrice"]["Amount"]) for i in items) == expected["gmv"]
    assert sum(Decimal(r["OrderTotal"]["Amount"]) for r in records) == expected["gmv"]
    assert {r["MarketplaceId"] for r in records} == {"OLIST-BR"}
    assert {r["SalesChannel"] for r in records} == {"olist"}
    assert {i["ItemPrice"]["CurrencyCode"] for i in items} == {"BRL"}
    assert Counter(r["ChannelOrderStatus"] for r in records) == expected["statuses"]
    mapped = {(r["ChannelOrderStatus"], r["OrderStatus"]) for r in records}
    assert ("delivered", "Shipped") in mapped and ("canceled", "Canceled") in mapped
    # BuyerId is the person (customer_unique_id), not Olist's per-order customer_id
    customers = {c["customer_id"]: c["customer_unique_id"] for c in _csv("olist_customers_dataset.csv")}
    order_customer = {o["order_id"]: o["customer_id"] for o in _csv("olist_orders_dataset.csv")}
    sample = records[:50]
    assert all(r["BuyerInfo"]["BuyerId"] == customers[order_customer[r["AmazonOrderId"]]] for r in sample)


def test_orders_without_items_are_quarantined_with_file_and_line(olist, expected) -> None:
    own, manifests = olist
    bad = [
        q
        for m in manifests
        if m.records_quarantined
        for q in quarantined(own, "olist", date.fromisoformat(m.ds))
    ]
    assert len(bad) == len(expected["without_items"]) == sum(m.records_quarantined for m in manifests)
    for entry in bad:
        order_id = entry["record"]["order"]["AmazonOrderId"]
        line = expected["without_items"][order_id]
        assert entry["reason"] == (
            f"olist/subset_2017_10k_orders/olist_orders_dataset.csv line {line}: "
            "OrderItems is not a non-empty list of objects"
        )
