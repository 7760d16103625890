"""Ingesting the orders source end to end: real sandbox with faults, real lake, real Postgres cursor state."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta

import orjson
import psycopg
import pytest

import connectors.landing
from connectors.cursors import ensure_cursor_table, read_cursors
from connectors.http import HttpConfig, SourceRequestError
from connectors.ingest import ingest_source_day
from connectors.landing import Manifest
from connectors.orders import DEFAULT_MARKETPLACE_IDS, ORDER, SOURCE
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.orders import order_versions
from connectors.source import Window
from storage.lake import Lake, local_path
from storage.warehouse import libpq_url

DS = date(2025, 11, 3)
SEED = 21
FAULTS = FaultConfig(
    error_5xx_rate=0.2, throttle_429_rate=0.1, malformed_rate=0.01, duplicate_rate=0.01, retry_after_seconds=0
)
FAST = {"backoff_initial_seconds": 0.02, "backoff_max_seconds": 0.2}


def _http(settings) -> HttpConfig:
    return HttpConfig(settings.orders_api_url, settings.orders_requests_per_second, max_attempts=8, **FAST)


def _read(path) -> list[dict]:
    with gzip.open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh]


def _key(record: dict) -> tuple[str, str]:
    return record["OrderItems"][0]["OrderItemId"], record["LastUpdateDate"]


@pytest.fixture
def clean_cursors(settings):
    with psycopg.connect(libpq_url(settings.warehouse_url), autocommit=True) as conn:
        ensure_cursor_table(conn)
        conn.execute("delete from ops.connector_cursor where source = %s", (SOURCE,))


def _end_of(ds: date) -> datetime:
    return datetime.combine(ds + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def test_a_faulty_day_lands_completely_and_reruns_identically(start_sandbox, settings_for):
    sandbox = start_sandbox(SandboxConfig(seed=SEED, rate_limit_per_second=50, faults=FAULTS))
    run_settings = settings_for(sandbox, orders_requests_per_second=50.0)

    manifest = ingest_source_day(run_settings, "orders", DS, http=_http(run_settings))[0]

    lake = Lake(run_settings.lake_uri)
    partition = local_path(lake.ods_partition("orders", "order", DS))
    landed = _read(partition / "part-00000.jsonl.gz")
    quarantined = _read(local_path(lake.ods_quarantine("orders", "order", DS)) / "part-00000.jsonl.gz")
    window = Window.for_day(DS)
    truth = {_key(r): r for r in order_versions(SEED, window.start, window.end)}

    assert manifest.records_received == manifest.records_landed + manifest.records_quarantined
    assert (manifest.records_landed, manifest.records_quarantined) == (len(landed), len(quarantined))
    assert manifest.records_quarantined > 0 and manifest.duplicates > 0
    assert all(truth[_key(r)] == r for r in landed)  # nothing landed that the marketplace did not send
    assert manifest.duplicates == len(landed) - len({_key(r) for r in landed})
    missing = set(truth) - {_key(r) for r in landed}
    assert missing == {_key(q["record"]) for q in quarantined}  # zero lost: all else is in quarantine
    assert all(q["reason"] and q["source"] == "orders" and q["ds"] == DS.isoformat() for q in quarantined)
    statuses = sandbox.stats.status_counts(ORDER.path)
    assert statuses[429] > 0 and statuses[500] + statuses[503] > 0  # the faults really happened
    assert manifest.requests == statuses.total() and manifest.pages == statuses[200]
    assert Manifest.read(partition) == manifest

    rerun = ingest_source_day(run_settings, "orders", DS, http=_http(run_settings), full_refresh=True)[0]
    assert rerun.checksum_sha256 == manifest.checksum_sha256
    assert rerun.records_quarantined == manifest.records_quarantined


@pytest.mark.usefixtures("clean_cursors")
def test_cursor_advances_only_after_a_successful_landing(start_sandbox, settings_for, monkeypatch):
    sandbox = start_sandbox(SandboxConfig(seed=SEED, rate_limit_per_second=50))
    run_settings = settings_for(sandbox, orders_requests_per_second=50.0)
    lake = Lake(run_settings.lake_uri)
    assert read_cursors(run_settings, SOURCE, DEFAULT_MARKETPLACE_IDS) == dict.fromkeys(
        DEFAULT_MARKETPLACE_IDS
    )

    first = ingest_source_day(run_settings, "orders", DS, http=_http(run_settings))[0]
    assert read_cursors(run_settings, SOURCE, DEFAULT_MARKETPLACE_IDS) == dict.fromkeys(
        DEFAULT_MARKETPLACE_IDS, _end_of(DS)
    )
    assert first.cursor_before == dict.fromkeys(DEFAULT_MARKETPLACE_IDS)
    with psycopg.connect(libpq_url(run_settings.warehouse_url)) as conn:
        logged = conn.execute(
            "select rows_in, rows_out, rows_rejected from ops.run_log where step = 'ingest' and ds = %s"
            " and details->>'checksum_sha256' = %s",
            (DS, first.checksum_sha256),
        ).fetchall()
    assert logged == [(first.records_received, first.records_landed, first.records_quarantined)]

    backfill = ingest_source_day(run_settings, "orders", DS - timedelta(days=1), http=_http(run_settings))[0]
    assert set(backfill.cursor_after.values()) == {"2025-11-04T00:00:00Z"}  # a backfill never rewinds
    expected = dict.fromkeys(DEFAULT_MARKETPLACE_IDS, _end_of(DS))
    assert read_cursors(run_settings, SOURCE, DEFAULT_MARKETPLACE_IDS) == expected

    next_day = DS + timedelta(days=1)
    outage = start_sandbox(SandboxConfig(seed=SEED, faults=FaultConfig(outage_after_requests=3)))
    outage_settings = settings_for(outage, http_max_attempts=2)  # the client as the DAG builds it
    with pytest.raises(SourceRequestError, match="HTTP 503"):
        ingest_source_day(outage_settings, "orders", next_day)[0]
    assert len(outage.stats.snapshot(ORDER.path)) == 3 + 2  # three pages, then two attempts
    assert read_cursors(run_settings, SOURCE, DEFAULT_MARKETPLACE_IDS) == expected
    assert not local_path(lake.ods_partition("orders", "order", next_day)).exists()

    def crash(directory, manifest):
        raise OSError("disk full while writing the manifest")

    monkeypatch.setattr(connectors.landing, "_write_manifest", crash)
    with pytest.raises(OSError, match="disk full"):
        ingest_source_day(run_settings, "orders", next_day, http=_http(run_settings))[0]
    assert read_cursors(run_settings, SOURCE, DEFAULT_MARKETPLACE_IDS) == expected
    assert not local_path(lake.ods_partition("orders", "order", next_day)).exists()
    assert not [p for p in local_path(run_settings.lake_uri).rglob(".*") if p.is_dir()]

    monkeypatch.undo()
    ingest_source_day(run_settings, "orders", next_day, http=_http(run_settings))[0]
    assert read_cursors(run_settings, SOURCE, DEFAULT_MARKETPLACE_IDS) == dict.fromkeys(
        DEFAULT_MARKETPLACE_IDS, _end_of(next_day)
    )
