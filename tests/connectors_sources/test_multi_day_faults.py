"""Two days of every source against a sandbox failing 20% of requests with 5xx and 10% with 429.

One module-scoped ingest (look-back and time slices on, so overlapping windows and chained slices are
exercised too) feeds three checks: every manifest reconciles, no record the sandbox served for a request
window is missing from landed + quarantined, and the real Spark DWD jobs leave no duplicate business key.
"""

from __future__ import annotations

import gzip
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson
import psycopg
import pytest

from connectors.cursors import ensure_cursor_table
from connectors.http import HttpConfig
from connectors.ingest import ingest_source_day
from connectors.landing import Manifest
from connectors.orders import ORDER
from connectors.registry import SOURCES, SPECS
from connectors.rest import Endpoint
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import RunningSandbox, sandbox_server
from connectors.source import Window
from ops.settings import Settings
from storage.lake import Lake, local_path
from storage.warehouse import libpq_url
from tests.connectors_sources.sandbox_truth import RATE, SEED, truth_records, window_truth

DAYS = (date(2025, 11, 5), date(2025, 11, 6))  # CRM send days, so every source has records
MARKETPLACES = (
    "ATVPDKIKX0DER",
)  # one marketplace keeps the volume small; logistics/ads/shop health are global
FAULTS = FaultConfig(
    error_5xx_rate=0.2,
    throttle_429_rate=0.1,
    malformed_rate=0.01,
    duplicate_rate=0.01,
    retry_after_seconds=0,
)
LOOKBACK_HOURS, SLICE_HOURS = 6.0, 12.0
FAST = {"max_attempts": 12, "backoff_initial_seconds": 0.02, "backoff_max_seconds": 0.2}
ABSENT = object()


@dataclass(frozen=True)
class Landed:
    settings: Settings
    sandbox: RunningSandbox
    manifests: dict[tuple[str, str, date], Manifest]


def _entity_keys(source: str) -> dict[str, tuple[str, ...]]:
    """Business key + cursor field of each entity (one record version) as the connector declares it."""
    module = importlib.import_module(f"connectors.{source}")
    endpoints = [e for e in vars(module).values() if isinstance(e, Endpoint)]
    return {e.entity: (*e.primary_key, e.cursor_field) for e in endpoints}


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with gzip.open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh]


def _files(settings: Settings, source: str, entity: str, ds: date) -> tuple[list[dict], list[dict]]:
    lake = Lake(settings.lake_uri)
    data = local_path(lake.ods_partition(source, entity, ds)) / "part-00000.jsonl.gz"
    bad = local_path(lake.ods_quarantine(source, entity, ds)) / "part-00000.jsonl.gz"
    return _read(data), _read(bad)


@pytest.fixture(scope="module")
def landed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landed]:
    config = SandboxConfig(seed=SEED, rate_limit_per_second=RATE, rate_limit_burst=20, faults=FAULTS)
    with sandbox_server(config) as sandbox:
        run_settings = settings.model_copy(
            update={
                "sandbox_port": sandbox.port,
                "lake_uri_override": (tmp_path_factory.mktemp("multi-day") / "lake").as_uri(),
                "ingest_lookback_hours": LOOKBACK_HOURS,
                "ingest_max_slice_hours": SLICE_HOURS,
                "dwd_lookback_days": len(DAYS) - 1,
            }
        )
        with psycopg.connect(libpq_url(settings.warehouse_url), autocommit=True) as conn:
            ensure_cursor_table(conn)
            conn.execute("delete from ops.connector_cursor where source = any(%s)", (list(SOURCES),))
        manifests: dict[tuple[str, str, date], Manifest] = {}
        for ds in DAYS:
            for source in SOURCES:
                http = HttpConfig(run_settings.source_url(source), RATE, **FAST)
                for m in ingest_source_day(run_settings, source, ds, marketplace_ids=MARKETPLACES, http=http):
                    manifests[(source, m.entity, ds)] = m
        yield Landed(run_settings, sandbox, manifests)


def test_faults_happened_and_every_partition_reconciles(landed: Landed):
    statuses = landed.sandbox.stats.status_counts()
    assert statuses[429] > 20 and statuses[500] + statuses[503] > 40, statuses
    expected = {(s, e, ds) for s in SOURCES for e in _entity_keys(s) for ds in DAYS}
    assert set(landed.manifests) == expected
    for (source, entity, ds), manifest in landed.manifests.items():
        data, bad = _files(landed.settings, source, entity, ds)
        assert manifest.records_received == manifest.records_landed + manifest.records_quarantined
        assert (manifest.records_landed, manifest.records_quarantined) == (len(data), len(bad))
        assert Manifest.read(
            local_path(Lake(landed.settings.lake_uri).ods_partition(source, entity, ds))
        ) == (manifest)
    total = sum(m.records_received for m in landed.manifests.values())
    quarantined = sum(m.records_quarantined for m in landed.manifests.values())
    duplicates = sum(m.duplicates for m in landed.manifests.values())
    assert total > 50_000 and quarantined > 0 and duplicates > 0
    served = len(landed.sandbox.stats.snapshot(ORDER.path))
    assert sum(m.requests for (s, _, _), m in landed.manifests.items() if s == "orders") == served


def _malformed_copy(bad: object, clean: dict) -> bool:
    """True when ``bad`` is ``clean`` with exactly one top-level field removed or changed."""
    if not isinstance(bad, dict):
        return False
    return sum(bad.get(k, ABSENT) != clean.get(k, ABSENT) for k in set(bad) | set(clean)) == 1


def _truth(settings: Settings, source: str, entity: str, ds: date) -> list[dict]:
    """What the sandbox serves for the request windows of one day: slices of the look-back window."""
    spec = SPECS[source]
    if not spec.windowed:
        return truth_records(entity, SEED, ds, MARKETPLACES)
    window = spec.fetch_window(Window.for_day(ds), settings.ingest_lookback_hours)
    slices = window.slices(settings.ingest_max_slice_hours)
    return [r for part in slices for r in window_truth(entity, SEED, part, MARKETPLACES)]


@pytest.mark.parametrize("source", SOURCES)
def test_no_record_is_missing_against_the_sandbox_truth(landed: Landed, source: str):
    spec = SPECS[source]
    for entity, fields in _entity_keys(source).items():
        for ds in DAYS:
            manifest = landed.manifests[(source, entity, ds)]
            window = spec.fetch_window(Window.for_day(ds), LOOKBACK_HOURS)
            assert (manifest.window_start, manifest.window_end) == (
                window.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                window.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )

            def key(record: dict, fields: tuple[str, ...] = fields) -> tuple:
                return tuple(record.get(f) for f in fields)

            truth = {key(r): r for r in _truth(landed.settings, source, entity, ds)}
            data, bad = _files(landed.settings, source, entity, ds)
            assert all(truth[key(r)] == r for r in data), f"{entity} {ds}: landed what was not served"
            missing = [truth[k] for k in set(truth) - {key(r) for r in data}]
            assert all(any(_malformed_copy(q["record"], t) for q in bad) for t in missing), (
                f"{entity} {ds}: {len(missing)} records neither landed nor quarantined"
            )
            assert all(any(_malformed_copy(q["record"], t) for t in missing) for q in bad)


def _landed_keys(settings: Settings, source: str, entity: str, ds: date, fields: tuple[str, ...]) -> set:
    data, _ = _files(settings, source, entity, ds)
    return {tuple(r[f] for f in fields) for r in data}


def test_dwd_jobs_leave_no_duplicate_business_key(landed: Landed, spark):
    from pyspark.sql import functions as F

    from spark_jobs import (
        ad_campaign_hourly,
        asin_daily_snapshot,
        campaign_exposure,
        review,
        shop_health_daily,
    )
    from spark_jobs.entity_job import run_entity
    from spark_jobs.order_items import run_order_items

    settings, lake = landed.settings, Lake(landed.settings.lake_uri)
    flat = (asin_daily_snapshot, review, shop_health_daily, ad_campaign_hourly, campaign_exposure)
    for module in flat:
        spec = module.SPEC
        (endpoint_fields,) = [
            (*e.primary_key,)
            for e in vars(importlib.import_module(f"connectors.{spec.source}")).values()
            if isinstance(e, Endpoint) and e.entity == spec.ods_name
        ]
        for ds in DAYS:
            counts = run_entity(spark, settings, spec, ds)
            assert counts.reconciles and counts.rows_rejected == 0, (spec.entity, ds, counts)
            keys = _landed_keys(settings, spec.source, spec.ods_name, ds, endpoint_fields)
            assert counts.rows_out == len(keys), (spec.entity, ds)  # one row per landed business key
        dwd = spark.read.parquet(lake.dwd_table(spec.entity))
        assert dwd.count() == dwd.select(*spec.key).distinct().count(), spec.entity
    landed_dups = sum(m.duplicates for (s, _, _), m in landed.manifests.items() if s != "orders")
    assert landed_dups > 0  # there were duplicates to drop

    orders = run_order_items(spark, settings, DAYS[-1])
    assert orders.reconciles and orders.ods_partitions == DAYS
    assert orders.duplicates_dropped > 0  # the look-back overlap and the served duplicates
    items = spark.read.parquet(lake.dwd_table("order_item")).filter(F.col("ds").between(DAYS[0], DAYS[-1]))
    assert items.count() > 0
    assert items.count() == items.select("order_id", "order_item_id").distinct().count()
