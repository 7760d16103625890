"""Chaos: kills, a stopped Postgres, an API storm, a quarantined day, reruns — each ends equal to the clean
week (every dwd/dws/ads table's checksum, wall-clock columns excluded), or fails clearly with nothing
published. The cases run in this order on one warehouse; README "Reliability" lists them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from connectors.ingest import ingest_source_day
from connectors.sandbox.config import FaultConfig
from connectors.sandbox.server import sandbox_server
from ops.quality.ads import validate_ads
from ops.quality.engine import DataQualityError
from ops.quality.gates import validate_ods_sources
from storage.lake import Lake, local_path
from storage.loader import LoadError
from storage.warehouse import connect
from tests.chaos.conftest import WEEK, Chaos, sandbox_config
from tests.chaos.day import order_marts, run_day

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(3600)]  # the first test also runs the week
LAST = WEEK[-1]


def test_a_fresh_warehouse_runs_its_first_week_clean_and_a_planted_drift_still_fails(chaos: Chaos):
    with connect(chaos.settings) as conn:
        profiles = conn.execute(
            "select ds, bool_and(success), count(*) from ops.quality_profile where layer = 'ADS' group by ds"
            " order by ds"
        ).fetchall()
        tiers = conn.execute("select count(*) from ads.ads_customer_tier_history").fetchone()[0]
    assert [(ds, ok) for ds, ok, _ in profiles] == [(ds, True) for ds in WEEK]  # seven clean ADS gates
    assert all(n == len(order_marts(chaos.settings)) for _, _, n in profiles) and tiers > 0

    with connect(chaos.settings) as conn:  # a currency-unit bug in the sales trend mart
        conn.execute("update ads.ads_marketplace_sales_trend set gmv = gmv * 100")
    with pytest.raises(DataQualityError) as error:
        validate_ads(chaos.settings, LAST, order_marts(chaos.settings))
    assert "ADS ads.ads_marketplace_sales_trend: 1 of 1 partitions failed" in str(error.value)
    assert f"[mean gmv within 1 sd of {WEEK[-2]}" in str(error.value)
    with connect(chaos.settings) as conn:
        conn.execute("update ads.ads_marketplace_sales_trend set gmv = gmv / 100")
    validate_ads(
        chaos.settings, LAST, order_marts(chaos.settings)
    )  # the mart restored: the gate passes again
    assert chaos.differences() == []


def test_three_reruns_of_a_day_change_nothing_tier_history_included(chaos: Chaos):
    """The newest day: the marts are rebuilt as of the run's day, so a lone rerun of an older day
    rewinds them until the days after it run again (README "Reliability")."""
    for attempt in (1, 2, 3):
        run_day(chaos.settings, LAST)
        assert chaos.differences() == [], f"rerun {attempt}"


def test_a_storm_of_5xx_and_429_refetches_the_day_to_the_same_tables(chaos: Chaos):
    storm = FaultConfig(error_5xx_rate=0.3, throttle_429_rate=0.2, retry_after_seconds=0)
    with sandbox_server(sandbox_config(storm)) as stormy:
        settings = chaos.settings.model_copy(
            update={"sandbox_port": stormy.port, "ingest_full_refresh": True}
        )
        run_day(settings, LAST)
        statuses = stormy.stats.status_counts()
    errors = sum(n for status, n in statuses.items() if status >= 500)
    assert errors >= 5 and statuses[429] >= 3, statuses  # it was a storm: ~30% and ~20% of requests
    assert chaos.differences() == []


def test_postgres_stopped_mid_load_fails_clearly_and_a_rerun_recovers(chaos: Chaos):
    class StopPostgres(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("loaded dwd.order_item ds="):
                logging.getLogger("storage.loader").removeHandler(self)
                chaos.stop_postgres()

    handler = StopPostgres()
    logging.getLogger("storage.loader").addHandler(handler)
    try:
        with pytest.raises(LoadError) as error:
            run_day(chaos.settings, LAST)
    finally:
        logging.getLogger("storage.loader").removeHandler(handler)
        chaos.start_postgres()
    assert "dwd.order_item ds=" in str(error.value) and "rolled back" in str(error.value)
    assert chaos.differences() == []  # one partition was reloaded with the same rows; nothing else moved

    run_day(chaos.settings, LAST)
    assert chaos.differences() == []


def test_kill_9_at_each_step_boundary_then_a_rerun_equals_the_clean_run(chaos: Chaos, tmp_path):
    ds = LAST.isoformat()
    lake = local_path(Lake(chaos.settings.lake_uri).root_uri)
    refresh = chaos.settings.model_copy(update={"ingest_full_refresh": True})
    # ingest: orders landed again, killed before the cursor and run-log commit
    chaos.kill_child_at(LAST, rf"orders/order ds={ds}: in \d+ records", tmp_path / "ingest.log", refresh)
    # Spark write: order items written, the order headers being written
    chaos.kill_child_at(LAST, rf"order_item ds={ds}: partition {ds} ", tmp_path / "spark.log")
    # between the two order loads: every order_item day loaded, dwd.orders not yet
    chaos.kill_child_at(LAST, rf"loaded dwd\.order_item ds={ds}:", tmp_path / "loads.log")
    assert not list(lake.glob("dwd/*/.spark-staging-*")), "the third run's start removed the second's staging"
    # dbt: the ADS layer half rebuilt
    chaos.kill_child_at(LAST, r"START sql (table|incremental) model ads\.", tmp_path / "dbt.log")

    run_day(chaos.settings, LAST)
    assert chaos.differences() == []
    assert not list(lake.rglob(".tmp-*")) and not list(lake.glob("dwd/*/.spark-staging-*"))


def test_a_fully_quarantined_day_fails_with_nothing_published_and_is_fetched_again(chaos: Chaos):
    next_day = LAST + timedelta(days=1)
    renamed = FaultConfig(renamed_fields=(("PurchaseDate", "purchaseDate"),))
    with sandbox_server(sandbox_config(renamed)) as broken:
        settings = chaos.settings.model_copy(update={"sandbox_port": broken.port})
        with pytest.raises(DataQualityError, match=rf"orders/order ds={next_day} \(0 rows\)"):
            run_day(settings, next_day)
    assert chaos.differences() == []  # stopped at the ODS gate: nothing reached DWD, DWS or ADS

    (fixed,) = ingest_source_day(chaos.settings, "orders", next_day)  # the API fixed: not "already landed"
    assert fixed.records_landed == fixed.records_received > 0 and fixed.requests > 0
    checked = validate_ods_sources(chaos.settings, next_day, ["orders"])["checked"]
    assert checked["orders/order"] == fixed.records_landed
