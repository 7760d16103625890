"""Request windows and pacing against the real sandbox: time slices, the look-back, per-source rates."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import date, timedelta

import orjson
import pytest

from connectors.ingest import ingest_source_day
from connectors.orders import ORDER
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import RunningSandbox, sandbox_server
from connectors.source import Window, iso_z
from ops.settings import Settings
from storage.lake import Lake, local_path
from tests.connectors_sources.sandbox_truth import RATE, SEED, window_truth

DS = date(2025, 11, 5)
MARKETPLACES = ("ATVPDKIKX0DER",)
KEY = ("AmazonOrderId", "LastUpdateDate")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with sandbox_server(SandboxConfig(seed=SEED, rate_limit_per_second=RATE, rate_limit_burst=20)) as running:
        yield running


def _orders(settings: Settings, ds: date) -> set[tuple]:
    partition = local_path(Lake(settings.lake_uri).ods_partition("orders", "order", ds))
    with gzip.open(partition / "part-00000.jsonl.gz", "rb") as fh:
        return {tuple(orjson.loads(line)[k] for k in KEY) for line in fh}


def _truth(window: Window) -> set[tuple]:
    return {tuple(r[k] for k in KEY) for r in window_truth("order", SEED, window, MARKETPLACES)}


def test_a_day_is_requested_in_slices(sandbox, settings_for):
    run_settings = settings_for(sandbox, ingest_max_slice_hours=6.0, orders_requests_per_second=RATE)
    asked = len(sandbox.stats.snapshot(ORDER.path))
    (manifest,) = ingest_source_day(run_settings, "orders", DS, marketplace_ids=MARKETPLACES)

    day = Window.for_day(DS)
    slices = day.slices(6.0)
    assert [(str(s.start.time()), str(s.end.time())) for s in slices] == [
        ("00:00:00", "06:00:00"),
        ("06:00:00", "12:00:00"),
        ("12:00:00", "18:00:00"),
        ("18:00:00", "00:00:00"),
    ]
    per_slice = set().union(*(_truth(s) for s in slices))
    # an order changed in two slices is served once per slice, as of its latest change there: the
    # landed versions are exactly those of four requests, more than one whole-day request would give
    assert _orders(run_settings, DS) == per_slice and per_slice > _truth(day)
    assert manifest.records_landed == manifest.records_received == len(per_slice)
    assert (manifest.window_start, manifest.window_end) == (iso_z(day.start), iso_z(day.end))
    assert len(sandbox.stats.snapshot(ORDER.path)) - asked == manifest.requests >= len(slices)


def test_the_look_back_lands_late_hours_again_and_keeps_the_cursor(sandbox, settings_for):
    run_settings = settings_for(
        sandbox, ingest_lookback_hours=6.0, ingest_max_slice_hours=6.0, orders_requests_per_second=RATE
    )
    day, next_day = DS, DS + timedelta(days=1)
    ingest_source_day(run_settings, "orders", day, marketplace_ids=MARKETPLACES)
    (manifest,) = ingest_source_day(run_settings, "orders", next_day, marketplace_ids=MARKETPLACES)

    window = Window.for_day(next_day)
    late = Window(window.start - timedelta(hours=6), window.start)
    asked = Window(late.start, window.end)
    assert (manifest.window_start, manifest.window_end) == (iso_z(asked.start), iso_z(asked.end))
    landed_next = _orders(run_settings, next_day)
    assert landed_next == set().union(*(_truth(s) for s in asked.slices(6.0)))
    # what changed in the last six hours of the day before is asked for again: an update the API
    # published only after that day's run (late) lands with the next day; DWD keeps the latest version
    assert _truth(late) and _truth(late) <= landed_next
    assert _truth(late) <= _orders(run_settings, day)  # the overlap: those versions landed on both days
    assert set(manifest.cursor_after.values()) == {iso_z(window.end)}  # the cursor is still the day's end


def _rate(sandbox: RunningSandbox, path: str, since: int) -> tuple[int, float]:
    """Requests on ``path`` after the first ``since``, and their pace in requests/s."""
    records = sandbox.stats.snapshot(path)[since:]
    paced = records[1:]  # the first page waits for the window to be built server-side
    return len(records), (len(paced) - 1) / (paced[-1].at - paced[0].at)


def test_a_source_rate_setting_paces_only_that_source(sandbox, settings_for, monkeypatch):
    monkeypatch.setenv("MERCATOR_SOURCE_RATE", '{"asin_metrics": 8}')
    from_env = Settings()
    assert from_env.source_rate("asin_metrics", 20.0) == 8.0 and from_env.source_rate("ads", 20.0) == 20.0
    path = "/asin-metrics/v1/daily"

    slow = settings_for(sandbox, source_rate_overrides=from_env.source_rate_overrides)
    before = len(sandbox.stats.snapshot(path))
    (manifest,) = ingest_source_day(slow, "asin_metrics", DS, marketplace_ids=MARKETPLACES)
    requests, pace = _rate(sandbox, path, before)
    assert requests == manifest.requests >= 10
    assert pace <= 8.0 * 1.05, pace  # the setting is the budget

    fast = settings_for(sandbox)  # no override: the source's own default (20/s), under the sandbox's 200
    before = len(sandbox.stats.snapshot(path))
    ingest_source_day(fast, "asin_metrics", DS + timedelta(days=1), marketplace_ids=MARKETPLACES)
    requests, pace = _rate(sandbox, path, before)
    assert requests >= 10 and pace > 8.0 * 1.5, pace  # so the setting, not the machine, set the pace
