"""Landing a day in the ODS lake: raw as received, reconciled counts, whole-day atomic replacement."""

from __future__ import annotations

import copy
import gzip
import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from connectors.landing import MANIFEST_FILE, Manifest, land_day
from connectors.orders import ORDER
from connectors.sandbox.orders import order_versions
from connectors.source import Page
from storage.lake import Lake, local_path

DS = date(2025, 10, 20)
SPEC = {
    "primary_key": ("AmazonOrderId",),
    "cursor_field": "LastUpdateDate",
    "schema_version": 1,
    "validate": ORDER.schema.validate,
    "known_fields": ORDER.schema.known_fields,
}


@pytest.fixture
def lake_settings(settings, tmp_path):
    return settings.model_copy(update={"lake_uri_override": (tmp_path / "lake").as_uri()})


def _partition(settings, ds: date = DS) -> Path:
    return local_path(Lake(settings.lake_uri).ods_partition("orders", "order", ds))


def _quarantine(settings, ds: date = DS) -> Path:
    return local_path(Lake(settings.lake_uri).ods_quarantine("orders", "order", ds))


def _lines(path: Path) -> list[dict]:
    with gzip.open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh]


def _sample(n: int = 120) -> list[dict]:
    start = datetime(2025, 10, 20, 9, tzinfo=UTC)
    return order_versions(1, start, start + timedelta(hours=2))[:n]


def _pages(records: list[dict], size: int = 50) -> list[Page]:
    return [
        Page(number=i // size, records=records[i : i + size], requests=1)
        for i in range(0, len(records), size)
    ]


def _hidden_dirs(settings) -> list[Path]:
    root = local_path(settings.lake_uri)
    return [p for p in root.rglob(".*") if p.is_dir()]


def test_landing_keeps_records_as_received_and_reconciles_counts(lake_settings):
    records = _sample()
    dirty = copy.deepcopy(records)
    dirty.insert(10, copy.deepcopy(records[9]))  # a duplicate delivery of the same version
    dirty[20]["IsPrime"] = True  # a field the schema does not know yet
    broken_id = {k: v for k, v in records[30].items() if k != "AmazonOrderId"}
    broken_amount = {**records[31], "OrderTotal": {"CurrencyCode": "USD", "Amount": "N/A"}}
    broken_date = {**records[32], "PurchaseDate": "31/11/2025 25:61"}
    dirty[31:34] = [broken_id, broken_amount, broken_date]

    manifest = land_day(lake_settings, "orders", "order", DS, _pages(dirty), **SPEC)

    landed = _lines(_partition(lake_settings) / "part-00000.jsonl.gz")
    quarantined = _lines(_quarantine(lake_settings) / "part-00000.jsonl.gz")
    assert landed == [r for r in dirty if ORDER.schema.validate(r) is None]
    assert list(landed[20]) == list(dirty[20])  # key order as received, too
    assert manifest.records_received == len(dirty) == manifest.records_landed + manifest.records_quarantined
    assert (manifest.records_landed, manifest.records_quarantined, manifest.duplicates) == (
        len(dirty) - 3,
        3,
        1,
    )
    assert manifest.drift == ("IsPrime",)
    assert manifest.requests == manifest.pages == 3
    assert manifest.cursor_max_seen == max(r["LastUpdateDate"] for r in landed)
    assert [q["record"] for q in quarantined] == [broken_id, broken_amount, broken_date]
    assert all(set(q) == {"source", "entity", "ds", "page", "reason", "record"} for q in quarantined)
    assert [q["reason"] for q in quarantined] == [
        "missing AmazonOrderId",
        "OrderTotal.Amount is not a decimal string",
        "PurchaseDate is not an ISO 8601 date-time with zone",
    ]
    assert quarantined[0]["page"] == 0 and quarantined[0]["ds"] == DS.isoformat()
    for q in quarantined:  # reasons carry no PII
        buyer = q["record"]["BuyerInfo"]
        assert all(value not in q["reason"] for value in buyer.values())
    data = (_partition(lake_settings) / "part-00000.jsonl.gz").read_bytes()
    assert manifest.checksum_sha256 == hashlib.sha256(data).hexdigest()
    assert Manifest.read(_partition(lake_settings)) == manifest


def test_relanding_replaces_the_day_whole_and_is_byte_identical(lake_settings):
    records = _sample()
    broken = [{**records[0], "OrderStatus": 7}, *records[1:]]
    first = land_day(lake_settings, "orders", "order", DS, _pages(broken), **SPEC)
    assert first.records_quarantined == 1 and _quarantine(lake_settings).exists()
    again = land_day(lake_settings, "orders", "order", DS, _pages(broken, size=7), **SPEC)
    assert again.checksum_sha256 == first.checksum_sha256  # deterministic gzip, whatever the paging
    smaller = land_day(lake_settings, "orders", "order", DS, _pages(records[:40]), **SPEC)
    assert _lines(_partition(lake_settings) / "part-00000.jsonl.gz") == records[:40]
    assert smaller.records_quarantined == 0 and not _quarantine(lake_settings).exists()
    assert sorted(p.name for p in _partition(lake_settings).iterdir()) == [
        MANIFEST_FILE,
        "part-00000.jsonl.gz",
    ]
    assert _hidden_dirs(lake_settings) == []


def _failing(pages: list[Page], after: int) -> Iterator[Page]:
    yield from pages[:after]
    raise ConnectionError("source went away mid-day")


def test_a_failure_mid_day_publishes_nothing_and_keeps_the_previous_landing(lake_settings):
    records = _sample()
    good = land_day(lake_settings, "orders", "order", DS, _pages(records), **SPEC)
    before = (_partition(lake_settings) / "part-00000.jsonl.gz").read_bytes()

    with pytest.raises(ConnectionError):
        land_day(lake_settings, "orders", "order", DS, _failing(_pages(records[:60]), after=1), **SPEC)
    assert (_partition(lake_settings) / "part-00000.jsonl.gz").read_bytes() == before
    assert Manifest.read(_partition(lake_settings)) == good

    new_day = DS + timedelta(days=1)
    with pytest.raises(ConnectionError):
        land_day(lake_settings, "orders", "order", new_day, _failing(_pages(records), after=2), **SPEC)
    assert not _partition(lake_settings, new_day).exists()
    assert not _quarantine(lake_settings, new_day).exists()
    assert _hidden_dirs(lake_settings) == []


def test_a_crash_between_the_publish_renames_is_recovered(lake_settings):
    records = _sample()
    good = land_day(lake_settings, "orders", "order", DS, _pages(records), **SPEC)
    partition = _partition(lake_settings)
    partition.rename(partition.parent / f".old-{partition.name}-deadbeef")  # state right after rename one

    with pytest.raises(ConnectionError):
        land_day(lake_settings, "orders", "order", DS, _failing(_pages(records), after=1), **SPEC)
    assert Manifest.read(partition) == good  # the previous landing is back, not lost
    assert _hidden_dirs(lake_settings) == []
