"""Cursors move only after a source's whole day landed; the registry declares every source without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

import connectors.landing
from connectors.cursors import read_cursors
from connectors.http import ApiClient, HttpConfig, SourceRequestError
from connectors.ingest import ingest_source_day
from connectors.orders import DEFAULT_MARKETPLACE_IDS
from connectors.registry import SOURCES, SPECS, spec
from connectors.rest import ALL_MARKETPLACES
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import sandbox_server
from connectors.source import Window
from storage.lake import Lake, local_path
from storage.warehouse import libpq_url
from tests.connectors_sources.sandbox_truth import RATE, SEED

DS = date(2025, 11, 5)
FAST = {"backoff_initial_seconds": 0.02, "backoff_max_seconds": 0.2}


def _end_of(ds: date) -> datetime:
    return datetime.combine(ds + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def _http(settings, source: str, **overrides) -> HttpConfig:
    return HttpConfig(settings.source_url(source), RATE, **{"max_attempts": 10, **FAST, **overrides})


def test_registry_lists_every_source_and_declaring_does_no_io():
    assert SOURCES == (
        "orders",
        "catalog",
        "asin_metrics",
        "reviews",
        "logistics",
        "shop_health",
        "ads",
        "crm",
        "finances",
    )
    with pytest.raises(KeyError, match="unknown source 'nope'"):
        spec("nope")
    # port 9 (discard) on loopback refuses connections: any request would fail or count in stats
    with ApiClient("any", HttpConfig("http://127.0.0.1:9", 1.0), "token") as client:
        for name, source_spec in SPECS.items():
            source = source_spec.build(client, Window.for_day(DS), DEFAULT_MARKETPLACE_IDS)
            assert source.name == name and source.resources
            for resource in source.resources:
                assert resource.primary_key and resource.schema_version >= 1
                assert set(resource.primary_key) | {resource.cursor_field} <= resource.known_fields
        assert client.stats.requests == 0


@pytest.mark.usefixtures("clean_cursors")
def test_cursor_advances_only_after_every_entity_landed(faulty_sandbox, settings_for, monkeypatch):
    run_settings = settings_for(faulty_sandbox)
    lake = Lake(run_settings.lake_uri)
    mps = DEFAULT_MARKETPLACE_IDS
    assert read_cursors(run_settings, "reviews", mps) == dict.fromkeys(mps)

    def crash_on(entity: str):
        original = connectors.landing._write_manifest

        def write(directory, manifest):
            if manifest.entity == entity:
                raise OSError("disk full while writing the manifest")
            original(directory, manifest)

        return write

    # a crash while landing the only entity: no partition, no cursor
    monkeypatch.setattr(connectors.landing, "_write_manifest", crash_on("review"))
    with pytest.raises(OSError, match="disk full"):
        ingest_source_day(run_settings, "reviews", DS, http=_http(run_settings, "reviews"))
    assert read_cursors(run_settings, "reviews", mps) == dict.fromkeys(mps)
    assert not local_path(lake.ods_partition("reviews", "review", DS)).exists()

    # a crash on the second entity of a source: the first landed, but the source's cursor stays put
    monkeypatch.setattr(connectors.landing, "_write_manifest", crash_on("tracking_event"))
    with pytest.raises(OSError, match="disk full"):
        ingest_source_day(run_settings, "logistics", DS, http=_http(run_settings, "logistics"))
    assert local_path(lake.ods_partition("logistics", "shipment", DS)).exists()
    assert not local_path(lake.ods_partition("logistics", "tracking_event", DS)).exists()
    assert read_cursors(run_settings, "logistics", [ALL_MARKETPLACES]) == {ALL_MARKETPLACES: None}
    assert not [p for p in local_path(run_settings.lake_uri).rglob(".*") if p.is_dir()]
    monkeypatch.undo()

    # an API outage mid-day: the request fails clearly, nothing is published, the cursor stays
    outage = SandboxConfig(seed=SEED, rate_limit_per_second=RATE, faults=FaultConfig(outage_after_requests=2))
    with sandbox_server(outage) as down:
        down_settings = settings_for(down)
        with pytest.raises(SourceRequestError, match=r"reviews: GET /reviews/v1/reviews .* HTTP 503"):
            ingest_source_day(
                down_settings, "reviews", DS, http=_http(down_settings, "reviews", max_attempts=2)
            )
        assert len(down.stats.snapshot("/reviews/v1/reviews")) == 2 + 2  # two pages, then two attempts
    assert read_cursors(run_settings, "reviews", mps) == dict.fromkeys(mps)
    assert not local_path(lake.ods_partition("reviews", "review", DS)).exists()

    # a clean run moves the cursor and logs counts in and out in the same transaction
    (review,) = ingest_source_day(run_settings, "reviews", DS, http=_http(run_settings, "reviews"))
    assert read_cursors(run_settings, "reviews", mps) == dict.fromkeys(mps, _end_of(DS))
    assert review.cursor_before == dict.fromkeys(sorted(mps)) and set(review.cursor_after.values()) == {
        "2025-11-06T00:00:00Z"
    }
    with psycopg.connect(libpq_url(run_settings.warehouse_url)) as conn:
        logged = conn.execute(
            "select rows_in, rows_out, rows_rejected from ops.run_log where step = 'ingest'"
            " and entity = 'reviews.review' and ds = %s and details->>'checksum_sha256' = %s",
            (DS, review.checksum_sha256),
        ).fetchall()
    assert logged == [(review.records_received, review.records_landed, review.records_quarantined)]

    logistics = ingest_source_day(run_settings, "logistics", DS, http=_http(run_settings, "logistics"))
    assert [m.entity for m in logistics] == ["shipment", "tracking_event"]
    assert read_cursors(run_settings, "logistics", [ALL_MARKETPLACES]) == {ALL_MARKETPLACES: _end_of(DS)}

    # a backfill of an earlier day never rewinds the cursor
    ingest_source_day(run_settings, "reviews", DS - timedelta(days=1), http=_http(run_settings, "reviews"))
    assert read_cursors(run_settings, "reviews", mps) == dict.fromkeys(mps, _end_of(DS))


def test_orders_go_through_the_same_entry_point(settings_for):
    with sandbox_server(SandboxConfig(seed=SEED, rate_limit_per_second=50)) as sandbox:
        run_settings = settings_for(sandbox, orders_requests_per_second=50.0)
        (manifest,) = ingest_source_day(run_settings, "orders", DS)
        assert (manifest.source, manifest.entity) == ("orders", "order")
        assert manifest.records_landed == manifest.records_received > 0
        assert manifest.requests == len(sandbox.stats.snapshot("/orders/v0/orders"))
