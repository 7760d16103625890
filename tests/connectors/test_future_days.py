"""Future intervals are refused before anything is fetched, and cursors never pass now.

``--ds 2099-01-01`` used to land an empty partition and move ``ops.connector_cursor`` to 2099-01-02, where
it stayed. Real sandbox, real Postgres.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from connectors.cursors import read_cursors
from connectors.http import HttpConfig
from connectors.ingest import FutureIntervalError, ingest_source_day
from connectors.orders import SOURCE
from connectors.sandbox.config import SandboxConfig
from ops.cli import main
from ops.pipeline import backfill
from storage.lake import Lake, local_path
from tests.connectors.test_ingest import clean_cursors  # noqa: F401 - the fixture

FUTURE = date(2099, 1, 1)
PAST = date(2025, 11, 2)
MARKETPLACES = ("ATVPDKIKX0DER",)


def _ingest(settings, ds: date):
    http = HttpConfig(settings.orders_api_url, 500.0, backoff_initial_seconds=0.02)
    (manifest,) = ingest_source_day(settings, "orders", ds, marketplace_ids=MARKETPLACES, http=http)
    return manifest


def _cursor(settings) -> datetime | None:
    return read_cursors(settings, SOURCE, MARKETPLACES)[MARKETPLACES[0]]


@pytest.mark.usefixtures("clean_cursors")
def test_a_future_day_is_refused_with_nothing_landed_and_a_past_day_still_lands(start_sandbox, settings_for):
    sandbox = start_sandbox(SandboxConfig(seed=3, rate_limit_per_second=500.0))
    run_settings = settings_for(sandbox)

    with pytest.raises(FutureIntervalError) as error:
        _ingest(run_settings, FUTURE)
    message = str(error.value)
    assert message.startswith("orders ds=2099-01-01: the interval ends 2099-01-02T00:00:00Z, after now (")
    assert "plus the 300 s clock-skew allowance (MERCATOR_INGEST_CLOCK_SKEW_SECONDS)" in message
    assert sandbox.stats.snapshot("/orders/v0/orders") == []  # nothing asked
    assert not local_path(Lake(run_settings.lake_uri).ods_partition(SOURCE, "order", FUTURE)).exists()
    assert _cursor(run_settings) is None

    # the CLI and the backfill refuse before starting Airflow or Spark
    with pytest.raises(FutureIntervalError, match="ds=2099-01-01: the interval ends"):
        main(["run-day", "--ds", FUTURE.isoformat()])
    with pytest.raises(FutureIntervalError, match="ds=2099-01-02: the interval ends"):
        backfill(run_settings, PAST, FUTURE + timedelta(days=1))
    assert _cursor(run_settings) is None

    manifest = _ingest(run_settings, PAST)  # the corrected command lands as before
    assert manifest.records_landed > 0
    assert _cursor(run_settings) == datetime(2025, 11, 3, tzinfo=UTC)


@pytest.mark.usefixtures("clean_cursors")
def test_within_the_clock_skew_allowance_a_day_lands_but_its_cursor_stops_at_now(start_sandbox, settings_for):
    sandbox = start_sandbox(SandboxConfig(seed=3, rate_limit_per_second=500.0))
    today = datetime.now(UTC).date()
    strict = settings_for(sandbox)
    with pytest.raises(FutureIntervalError):
        _ingest(strict, today)  # today is not over

    skewed = settings_for(sandbox, ingest_clock_skew_seconds=2 * 86400.0)
    _ingest(skewed, today)
    cursor = _cursor(skewed)
    assert cursor is not None and cursor <= datetime.now(UTC)
    assert cursor < datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
