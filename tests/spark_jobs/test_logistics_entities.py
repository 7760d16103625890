"""ODS logistics → DWD ``tracking_event`` (flat, unified carrier codes) and ``shipment`` (look-back window).

Three consecutive sandbox days are landed by the real connector (with duplicated records) and conformed
by Spark, then loaded into Postgres; hand-written ODS covers late and out-of-order versions, shipments
older than the window and carrier codes nobody mapped.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

import connectors.sandbox.logistics as sandbox_logistics
from connectors.sandbox.orders import orders_for_day
from ops.settings import Settings
from spark_jobs import carrier_codes
from spark_jobs.entity_job import run_entity
from spark_jobs.entity_write import quarantine_path
from spark_jobs.shipment import SPEC as SHIPMENT
from spark_jobs.shipment import SPEC as SHIPMENT_SPEC
from spark_jobs.tracking_event import SPEC as TRACKING_EVENT
from spark_jobs.tracking_event import SPEC as TRACKING_EVENT_SPEC
from storage.lake import Lake, local_path
from storage.loader import load_dwd_partitions, read_dwd_partition
from storage.warehouse import connect
from tests.spark_jobs.entity_lake import land_sandbox_day, ods_records, parquet_bytes, write_ods

SEED = 23
DS = date(2025, 11, 5)
DAYS = [DS - timedelta(days=2), DS - timedelta(days=1), DS]
CONGESTION_DAY = date(2025, 8, 20)  # the sandbox's port congestion episode: parcels wait for a berth


def _ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _event_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": r["event_id"],
        "shipment_id": r["shipment_id"],
        "tracking_number": r["tracking_number"],
        "carrier": r["carrier"],
        "event_at": _ts(r["event_at"]),
        "carrier_tag": r["tag"],
        "carrier_subtag": r["subtag"],
        "message": r["message"],
        "location": r["location"],
        "event_code": carrier_codes.event_code(r["carrier"], r["tag"], r["subtag"]),
    }


def _shipment_row(r: dict[str, Any]) -> dict[str, Any]:
    promised, delivered = _ts(r["promised_delivery_at"]), _ts(r["delivered_at"])
    late = delay = None
    if promised is not None and delivered is not None:
        seconds = Decimal((delivered - promised).total_seconds())
        delay = (seconds / Decimal(86_400)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        late = delivered > promised
    return {
        "shipment_id": r["shipment_id"],
        "tracking_number": r["tracking_number"],
        "carrier": r["carrier"],
        "order_id": r["order_id"],
        "marketplace_id": r["marketplace_id"],
        "shop_id": r["shop_id"],
        "lane": r["lane"],
        "origin_port": r["origin_port"],
        "destination_port": r["destination_port"],
        "created_at": _ts(r["created_at"]),
        "updated_at": _ts(r["updated_at"]),
        "carrier_status": r["status"],
        "promised_delivery_at": promised,
        "delivered_at": delivered,
        "shipment_status": carrier_codes.SHIPMENT_STATUSES[r["status"]],
        "is_delivered": r["status"] == "Delivered",
        "delay_days": delay,
        "is_late": late,
    }


def _parquet_rows(settings: Settings, entity: str, day: date) -> list[dict[str, Any]]:
    return read_dwd_partition(settings, entity, day).drop(["ds"]).to_pylist()


def _postgres_equals_parquet(settings: Settings, entity: str, days: list[date], key: str) -> int:
    """Load ``days`` and compare every Postgres row with its Parquet row, column by column."""
    loaded = load_dwd_partitions(settings, entity, days)
    table_days = sorted(loaded)
    parquet = []
    for day in table_days:
        parquet += [{**row, "ds": day} for row in _parquet_rows(settings, entity, day)]
    columns = list(parquet[0])
    with connect(settings) as conn:
        cur = conn.execute(
            f"select {', '.join(columns)} from dwd.{entity} where ds = any(%s) order by ds, {key}",
            (table_days,),
        )
        pg = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    assert pg == sorted(parquet, key=lambda r: (r["ds"], r[key]))
    return len(pg)


@pytest.fixture(scope="module")
def landed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Three consecutive logistics days landed by the real connector from a sandbox that duplicates."""
    lake = tmp_path_factory.mktemp("logistics-entities") / "lake"
    for day in DAYS:
        run_settings = land_sandbox_day(settings, lake, ["logistics"], SEED, day)
    yield run_settings


# ---- tracking events ----------------------------------------------------------------------------------
def test_tracking_events_of_sandbox_days_conform_load_and_rerun_identically(spark, landed):
    for day in DAYS:
        served = ods_records(landed, "logistics", "tracking_event", day)
        latest = {r["event_id"]: r for r in served}

        counts = run_entity(spark, landed, TRACKING_EVENT_SPEC, day)

        assert len(served) > len(latest) > 1000  # the sandbox did duplicate records of this day
        assert (counts.rows_in, counts.rows_out, counts.rows_rejected) == (len(served), len(latest), 0)
        assert counts.duplicates_dropped == len(served) - len(latest) and counts.reconciles
        rows = _parquet_rows(landed, "tracking_event", day)
        assert rows == sorted((_event_row(r) for r in latest.values()), key=lambda r: r["event_id"])

    first = parquet_bytes(landed, "tracking_event")
    assert sorted(first) == [f"ds={d.isoformat()}" for d in DAYS]
    assert _postgres_equals_parquet(landed, "tracking_event", DAYS, "event_id") > 3000

    run_entity(spark, landed, TRACKING_EVENT_SPEC, DS)
    assert parquet_bytes(landed, "tracking_event") == first  # byte-identical rerun


def _sandbox_source_codes() -> set[tuple[str, str]]:
    """Every (tag, subtag) literal the sandbox's journey code can emit, read from its source."""
    source = Path(sandbox_logistics.__file__).read_text()
    return set(re.findall(r'"([A-Za-z]+)",\s*"(\1_\d{3})"', source))


def test_every_carrier_code_the_sandbox_emits_maps_to_a_unified_code(spark, landed, lake_settings):
    """Each carrier and tag/subtag the sandbox can emit maps, and the job publishes them all unrejected."""
    emitted = _sandbox_source_codes()
    carriers = {c for lane in sandbox_logistics.LANES.values() for c in lane.carriers}
    assert len(emitted) >= 11 and carriers == set(carrier_codes.CARRIERS)
    for carrier in carriers:
        for tag, subtag in emitted:
            assert carrier_codes.event_code(carrier, tag, subtag) in carrier_codes.EVENT_CODES

    # A congestion-episode day generated straight from the sandbox exercises the port-delay code.
    start = datetime(CONGESTION_DAY.year, CONGESTION_DAY.month, CONGESTION_DAY.day, tzinfo=UTC)
    events = sandbox_logistics.tracking_events(SEED, start, start + timedelta(days=1))
    write_ods(lake_settings, "logistics", "tracking_event", CONGESTION_DAY, events)
    counts = run_entity(spark, lake_settings, TRACKING_EVENT_SPEC, CONGESTION_DAY)
    assert (counts.rows_out, counts.rows_rejected) == (len(events), 0)

    published = [_parquet_rows(lake_settings, "tracking_event", CONGESTION_DAY)]
    published += [_parquet_rows(landed, "tracking_event", day) for day in DAYS]
    seen = {
        (r["carrier"], r["carrier_tag"], r["carrier_subtag"], r["event_code"]) for p in published for r in p
    }
    assert {(tag, subtag) for _c, tag, subtag, _code in seen} == emitted  # every code was exercised
    assert {c for c, *_ in seen} == carriers
    assert all(code == carrier_codes.event_code(c, t, s) for c, t, s, code in seen)
    assert {code for *_, code in seen} >= {"picked_up", "delayed", "customs_hold", "lost", "delivered"}


def _event(n: int, tag: str, subtag: str | None, carrier: str = "YunExpress") -> dict[str, Any]:
    return {
        "event_id": f"YU1234567890US-{n:02d}",
        "tracking_number": "YU1234567890US",
        "shipment_id": "SHP1131234567890",
        "carrier": carrier,
        "event_at": f"{DS.isoformat()}T0{n}:00:00Z",
        "tag": tag,
        "subtag": subtag,
        "message": "scan",
        "location": "Los Angeles, US",
    }


def test_an_unknown_carrier_code_is_rejected_with_its_name_partition_and_event_id(
    spark, lake_settings, caplog
):
    good = _event(1, "InTransit", "InTransit_001", carrier="Evri")
    no_subtag = _event(2, "Delivered", None)  # a carrier without subtags: the tag's own meaning
    new_subtag = _event(3, "Exception", "Exception_099")  # known tag, unmapped subtag: not guessed
    new_tag = _event(4, "Teleported", None, carrier="UPS")
    write_ods(lake_settings, "logistics", "tracking_event", DS, [good, no_subtag, new_subtag, new_tag])

    with caplog.at_level(logging.WARNING, logger="spark_jobs.entity_job"):
        counts = run_entity(spark, lake_settings, TRACKING_EVENT_SPEC, DS)

    reason = "unknown carrier code {} (map it in spark_jobs/carrier_codes.py)"
    assert counts.rejected_reasons == {
        reason.format("YunExpress Exception/Exception_099"): 1,
        reason.format("UPS Teleported/-"): 1,
    }
    assert (counts.rows_out, counts.rows_rejected) == (2, 2)
    rows = _parquet_rows(lake_settings, "tracking_event", DS)
    assert [(r["event_id"][-2:], r["event_code"]) for r in rows] == [("01", "picked_up"), ("02", "delivered")]

    folder = local_path(quarantine_path(Lake(lake_settings.lake_uri), TRACKING_EVENT, DS))
    assert "/logistics/dwd_tracking_event/" in folder.as_posix()  # the quarantine names the source
    quarantined = []
    for part in folder.glob("*.json.gz"):
        with gzip.open(part, "rt") as fh:
            quarantined += [json.loads(line) for line in fh]
    assert sorted((q["event_id"], q["ods_ds"], q["reason"]) for q in quarantined) == [
        (new_subtag["event_id"], DS.isoformat(), reason.format("YunExpress Exception/Exception_099")),
        (new_tag["event_id"], DS.isoformat(), reason.format("UPS Teleported/-")),
    ]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for bad in (new_subtag, new_tag):
        assert f"logistics/tracking_event ds={DS.isoformat()} record event_id={bad['event_id']}" in logged
    with pytest.raises(carrier_codes.UnknownCarrierCodeError, match="Exception_099"):
        carrier_codes.event_code("YunExpress", "Exception", "Exception_099")


# ---- shipments ---------------------------------------------------------------------------------------
def test_shipments_of_sandbox_days_keep_the_latest_version_per_created_day(spark, landed):
    served = [(day, r) for day in DAYS for r in ods_records(landed, "logistics", "shipment", day)]
    latest: dict[str, dict[str, Any]] = {}
    for _day, r in sorted(served, key=lambda dr: (dr[1]["updated_at"], dr[0])):
        latest[r["shipment_id"]] = r
    in_window = {k: r for k, r in latest.items() if _ts(r["created_at"]).date() >= DAYS[0]}

    counts = run_entity(spark, landed, SHIPMENT_SPEC, DS)

    assert counts.ods_partitions == tuple(DAYS)  # the whole landed window, no further (a gap before)
    assert counts.rows_in == len(served) and counts.reconciles and counts.rows_rejected == 0
    assert counts.rows_out == len(in_window) > 1000
    assert counts.outside_window == len(latest) - len(in_window) > 1000  # created before the window
    by_day: dict[date, list[dict[str, Any]]] = {}
    for r in in_window.values():
        by_day.setdefault(_ts(r["created_at"]).date(), []).append(_shipment_row(r))
    assert counts.partitions == {day: len(rows) for day, rows in sorted(by_day.items())}
    for day, expected in by_day.items():
        assert _parquet_rows(landed, "shipment", day) == sorted(expected, key=lambda r: r["shipment_id"])
    moved = [r for r in in_window.values() if r["status"] != "InfoReceived"]
    assert moved  # late updates were picked up from later ODS days

    first = parquet_bytes(landed, "shipment")
    assert _postgres_equals_parquet(landed, "shipment", DAYS, "shipment_id") == len(in_window)
    run_entity(spark, landed, SHIPMENT_SPEC, DS)
    assert parquet_bytes(landed, "shipment") == first  # byte-identical rerun


def _shipment(sid: str, created: str, updated: str, status: str, **changes: Any) -> dict[str, Any]:
    record = {
        "shipment_id": sid,
        "tracking_number": f"TN{sid}",
        "carrier": "YunExpress",
        "order_id": f"113-{sid}",
        "marketplace_id": "ATVPDKIKX0DER",
        "shop_id": "SHOP-1",
        "lane": "CN-USW",
        "origin_port": "CNYTN",
        "destination_port": "USLAX",
        "created_at": created,
        "updated_at": updated,
        "status": status,
        "promised_delivery_at": "2025-10-03T23:59:59Z",
        "delivered_at": None,
    }
    return {**record, **changes}


def test_late_and_out_of_order_shipment_versions_resolve_to_the_latest_updated_at(spark, lake_settings):
    d1, d2, d3 = date(2025, 10, 1), date(2025, 10, 2), date(2025, 10, 3)
    s1_v1 = _shipment("S1", "2025-10-01T10:00:00Z", "2025-10-01T10:00:00Z", "InfoReceived")
    s1_v2 = _shipment("S1", "2025-10-01T10:00:00Z", "2025-10-02T08:00:00Z", "InTransit")
    s1_v3 = _shipment(
        "S1", "2025-10-01T10:00:00Z", "2025-10-03T06:00:00Z", "Delivered", delivered_at="2025-10-03T06:00:00Z"
    )
    s2 = _shipment(
        "S2",
        "2025-10-02T09:00:00Z",
        "2025-10-03T12:00:00Z",
        "Delivered",
        promised_delivery_at="2025-10-03T00:00:00Z",
        delivered_at="2025-10-03T12:00:00Z",
    )
    old = _shipment("S0", "2025-09-20T10:00:00Z", "2025-10-02T11:00:00Z", "Exception")
    unknown = _shipment("S3", "2025-10-03T01:00:00Z", "2025-10-03T01:00:00Z", "Teleported")
    write_ods(lake_settings, "logistics", "shipment", d1, [s1_v1])
    write_ods(lake_settings, "logistics", "shipment", d2, [s1_v2, old, s1_v1])  # v1 re-served late
    write_ods(lake_settings, "logistics", "shipment", d3, [s2, s1_v3, s2])

    counts = run_entity(spark, lake_settings, SHIPMENT_SPEC, d3)

    assert counts.ods_partitions == (d1, d2, d3)
    assert (counts.rows_in, counts.rows_out, counts.duplicates_dropped) == (7, 2, 4)
    assert (counts.outside_window, counts.rows_rejected, counts.reconciles) == (1, 0, True)
    assert counts.partitions == {d1: 1, d2: 1}
    s1 = _parquet_rows(lake_settings, "shipment", d1)
    assert s1 == [_shipment_row(s1_v3)]  # the latest updated_at, not the latest ODS line
    assert (s1[0]["shipment_status"], s1[0]["delay_days"], s1[0]["is_late"]) == (
        "delivered",
        Decimal("-0.75"),
        False,
    )
    s2_row = _parquet_rows(lake_settings, "shipment", d2)
    assert [(r["shipment_id"], r["delay_days"], r["is_late"]) for r in s2_row] == [
        ("S2", Decimal("0.50"), True)
    ]
    assert not local_path(Lake(lake_settings.lake_uri).dwd_partition("shipment", date(2025, 9, 20))).exists()

    # An unknown status is rejected by name; a window day left without rows loses its partition.
    write_ods(lake_settings, "logistics", "shipment", d3, [unknown, s1_v3])
    again = run_entity(spark, lake_settings, SHIPMENT_SPEC, d3)
    assert again.rejected_reasons == {"unknown shipment status Teleported": 1}
    assert again.partitions == {d1: 1}
    assert not local_path(Lake(lake_settings.lake_uri).dwd_partition("shipment", d2)).exists()


def test_the_shipment_spec_reads_a_window_long_enough_for_a_journey():
    assert SHIPMENT.lookback and SHIPMENT.min_lookback_days >= sandbox_logistics.MAX_JOURNEY_DAYS


def test_no_buyer_pii_reaches_the_logistics_tables(spark, landed):
    """Logistics serves no recipient data; check it stays so: the shipped orders' buyers are not in DWD."""
    run_entity(spark, landed, TRACKING_EVENT_SPEC, DS)
    run_entity(spark, landed, SHIPMENT_SPEC, DS)
    shipments = [r for day in DAYS for r in _parquet_rows(landed, "shipment", day)]
    order_ids = {r["order_id"] for r in shipments}
    buyers = {
        o.order_id: o.buyer
        for offset in range(2 + sandbox_logistics.PURCHASE_TO_LABEL_DAYS + 1)
        for o in orders_for_day(SEED, DS - timedelta(days=offset))
        if o.order_id in order_ids
    }
    assert len(buyers) > 0.9 * len(order_ids)  # the orders behind (nearly) every shipment were found
    clear = {value for _id, email, name, phone in buyers.values() for value in (email, name, phone)}
    for entity in ("tracking_event", "shipment"):
        files = local_path(Lake(landed.lake_uri).dwd_table(entity)).rglob("*.parquet")
        raw = b"".join(p.read_bytes() for p in files)
        tables = [read_dwd_partition(landed, entity, day) for day in DAYS]
        text = "\n".join(str(v) for t in tables if t is not None for r in t.to_pylist() for v in r.values())
        leaked = [v for v in clear if v in text or v.encode() in raw]
        assert leaked == [], entity
