"""The finances source through the real sandbox: a day's refund events land exactly once, faults or not."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import date
from functools import partial

import orjson
import pytest

from connectors import finances, registry
from connectors.finances import REFUND_EVENT, finances_source
from connectors.http import HttpConfig
from connectors.ingest import ingest_source_day
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.refunds import refund_events
from connectors.sandbox.server import sandbox_server
from connectors.source import Window
from storage.lake import Lake, local_path
from tests.connectors_sources.sandbox_truth import RATE, SEED

DS = date(2025, 11, 5)
FAST = {"backoff_initial_seconds": 0.02, "backoff_max_seconds": 0.2}
PAGE_PATH = REFUND_EVENT.path
HEAVY_FAULTS = FaultConfig(
    error_5xx_rate=0.3, throttle_429_rate=0.2, malformed_rate=0.08, duplicate_rate=0.08, retry_after_seconds=0
)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 20 (a day holds ~90 refunds), so every test walks several NextTokens."""
    spec = replace(finances.SPEC, build=partial(finances_source, page_size=20))
    monkeypatch.setitem(registry.SPECS, "finances", spec)


def _read(path) -> list[dict]:
    if not path.exists():
        return []
    with gzip.open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh]


def _key(record: dict) -> tuple:
    return tuple(record.get(f) for f in REFUND_EVENT.primary_key)


def _landed(settings) -> tuple[list[dict], list[dict]]:
    lake = Lake(settings.lake_uri)
    data = local_path(lake.ods_partition("finances", REFUND_EVENT.entity, DS)) / "part-00000.jsonl.gz"
    bad = local_path(lake.ods_quarantine("finances", REFUND_EVENT.entity, DS)) / "part-00000.jsonl.gz"
    return _read(data), _read(bad)


def _truth() -> dict[tuple, dict]:
    window = Window.for_day(DS)
    return {_key(r): r for r in refund_events(SEED, window.start, window.end, "small")}


def test_a_clean_day_lands_every_refund_exactly_once(settings_for):
    truth = _truth()
    assert len(truth) > 50  # a normal day has refunds of every cause to land
    config = SandboxConfig(seed=SEED, rate_limit_per_second=RATE, rate_limit_burst=20)
    with sandbox_server(config) as sandbox:
        run_settings = settings_for(sandbox)
        http = HttpConfig(run_settings.source_url("finances"), RATE, max_attempts=3, **FAST)
        (manifest,) = ingest_source_day(run_settings, "finances", DS, http=http)
        pages = len(sandbox.stats.snapshot(PAGE_PATH))

    landed, quarantined = _landed(run_settings)
    assert [_key(r) for r in landed] == list(truth) and landed == list(truth.values())
    assert quarantined == [] and manifest.duplicates == 0 and manifest.drift == ()
    assert manifest.records_landed == len(truth) and manifest.requests == pages >= 4


def _malformed_copy(bad: object, clean: dict) -> bool:
    """True when ``bad`` is ``clean`` with exactly one top-level field removed or changed."""
    if not isinstance(bad, dict):
        return False
    absent = object()
    return sum(bad.get(k, absent) != clean.get(k, absent) for k in set(bad) | set(clean)) == 1


def test_a_faulty_day_accounts_for_every_refund_and_reruns_identically(settings_for):
    truth = _truth()
    config = SandboxConfig(seed=SEED, rate_limit_per_second=RATE, rate_limit_burst=20, faults=HEAVY_FAULTS)
    with sandbox_server(config) as sandbox:
        run_settings = settings_for(sandbox)
        http = HttpConfig(run_settings.source_url("finances"), RATE, max_attempts=10, **FAST)
        (manifest,) = ingest_source_day(run_settings, "finances", DS, http=http)
        rerun = ingest_source_day(run_settings, "finances", DS, http=http, full_refresh=True)
        statuses = sandbox.stats.status_counts(PAGE_PATH)

    assert statuses[429] > 0 and statuses[500] + statuses[503] > 0  # the faults really happened
    landed, quarantined = _landed(run_settings)
    keys = [_key(r) for r in landed]
    assert all(truth[k] == r for k, r in zip(keys, landed, strict=True))  # nothing the sandbox never sent
    assert manifest.duplicates == len(keys) - len(set(keys)) > 0
    lost = [truth[k] for k in set(truth) - set(keys)]
    distinct = {orjson.dumps(q["record"], option=orjson.OPT_SORT_KEYS) for q in quarantined}
    assert len(quarantined) == manifest.records_quarantined > 0
    assert len(lost) == len(distinct)  # the malformed ones (a duplicated one is quarantined twice), only them
    assert all(any(_malformed_copy(q["record"], t) for q in quarantined) for t in lost)
    assert {q["reason"] for q in quarantined} <= {
        "missing AmazonOrderId",
        "PostedDate is not an ISO 8601 date-time with zone",
        "ShipmentItemAdjustmentList is null",
    }
    assert [m.checksum_sha256 for m in rerun] == [manifest.checksum_sha256]
