"""ads_reconciliation for every source besides orders, on the real pipeline: sandbox API → connectors →
ODS → Spark DWD (ops.pipeline.build_dwd) → loader → dbt, in a database of the module's own.

Two days of every REST source are landed from a sandbox duplicating 25% of its records. A clean run
reconciles every source, entity and day at every layer; then one fault at a time is planted (and
undone): a day of reviews lost in Postgres, an ad mart that drifted by a cent, and an incremental run
that must re-check the older days its Spark runs rebuilt (shipments' look-back) but not the others.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from connectors.landing import published_manifest
from ops.dbt_runner import build_day_range
from ops.pipeline import build_dwd, load_dwd
from ops.settings import Settings
from spark_jobs.order_items import ENTITY as ORDER_ITEM
from spark_jobs.order_items import ODS_ENTITY as ORDER_ODS_ENTITY
from spark_jobs.registry import FLAT_SPECS
from storage.loader import load_dwd_partitions
from storage.warehouse import connect
from tests.conftest import OwnWarehouse
from tests.dbt.conftest import assert_marts_match_pinned
from tests.dbt.reconciliation_run import MODEL, build, reconciliation_rows
from tests.spark_jobs.entity_lake import land_sandbox_day

ROOT = Path(__file__).resolve().parents[2]
SEED = 23
D1 = date(2025, 11, 5)
D2 = D1 + timedelta(days=1)
DAYS = (D1, D2)
SOURCES = ["asin_metrics", "reviews", "shop_health", "ads", "crm", "logistics", "catalog", "finances"]
MARTS = {
    "asin_daily_snapshot": "dws_asin_daily",
    "review": "dws_asin_daily",
    "refund": "dws_asin_daily",
    "ad_campaign_hourly": "dws_ad_campaign_daily",
    "shop_health_daily": "dws_shop_daily",
    "shipment": "dws_lane_daily",
}
Rows = dict[tuple[str, date], dict]


def reconciled_entities() -> list[dict]:
    project = yaml.safe_load((ROOT / "dbt" / "dbt_project.yml").read_text())
    return project["vars"]["reconciled_entities"]


@pytest.fixture(scope="module")
def wh(own_warehouse: OwnWarehouse, spark, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Two landed, built and loaded days of every REST source in a database and lake of their own."""
    own = own_warehouse("mercator_dbt_reconciliation_sources_tests")
    lake = tmp_path_factory.mktemp("recon-sources") / "lake"
    for ds in DAYS:
        landed = land_sandbox_day(own, lake, SOURCES, SEED, ds)
    for ds in DAYS:
        load_dwd(landed, build_dwd(landed, ds, ds, SOURCES))
    return landed


def rows(settings: Settings) -> Rows:
    return {(row["entity"], row["ds"]): row for row in reconciliation_rows(settings)}


def not_ok(settings: Settings) -> dict[tuple[str, date], str]:
    return {key: row["status_reason"] for key, row in rows(settings).items() if not row["is_ok"]}


@pytest.fixture(scope="module")
def clean(wh: Settings) -> Rows:
    build(wh)
    return rows(wh)


def test_the_entity_list_matches_the_spark_jobs() -> None:
    """Every DWD job is reconciled, from the ODS entity it reads; its staging view exists."""
    expected = {(s.entity, s.source, s.ods_name) for s in FLAT_SPECS} | {(ORDER_ITEM, None, ORDER_ODS_ENTITY)}
    listed = reconciled_entities()
    assert {(e["entity"], e["source"], e["ods_entity"]) for e in listed} == expected
    for entry in listed:
        assert (ROOT / "dbt" / "models" / "staging" / f"{entry['staging']}.sql").exists(), entry


def test_every_source_entity_and_day_reconciles_after_a_clean_run(wh: Settings, clean: Rows) -> None:
    entities = {e["entity"]: e for e in reconciled_entities() if e["source"]}
    assert set(clean) == {(entity, ds) for entity in entities for ds in DAYS}
    for (entity, ds), row in clean.items():
        source, ods_entity = entities[entity]["source"], entities[entity]["ods_entity"]
        assert (row["source_name"], row["status"], row["is_ok"]) == (source, "ok", True), row
        manifest = published_manifest(wh, source, ods_entity, ds)
        assert manifest is not None and row["ods_records_landed"] == manifest.records_landed > 0, row
        assert row["dwd_ods_records_read"] == row["dwd_ods_records_expected"], row
        with connect(wh) as conn:
            in_postgres = conn.execute(f"select count(*) from dwd.{entity} where ds = %s", (ds,)).fetchone()[
                0
            ]
        assert row["postgres_rows"] == row["dwd_partition_rows"] == in_postgres, row
        assert row["mart_model"] == MARTS.get(entity), row
        if entity in MARTS:
            assert row["postgres_count"] == row["mart_count"] > 0, row
            assert row["postgres_amount"] == row["mart_amount"], row
            assert row["mart_mismatched_groups"] == 0, row
        else:
            assert row["mart_count"] is None and row["mart_mismatched_groups"] is None, row
    # the sandbox duplicated records: every flat entity's run dropped some and still balances
    assert all(clean[("review", ds)]["dwd_duplicates_dropped"] > 0 for ds in DAYS)
    # refund events explode into refunded lines: rows in count lines, the ODS check counts events
    refund = clean[("refund", D2)]
    assert refund["dwd_rows_in"] > refund["dwd_ods_records_read"] == refund["ods_records_landed"]
    # shipments are rebuilt over their look-back window: the D2 run is the one D1's rows come from
    assert clean[("shipment", D1)]["dwd_run_ds"] == D2
    with connect(wh) as conn:
        spend = conn.execute("select sum(spend) from dwd.ad_campaign_hourly where ds = %s", (D2,)).fetchone()[
            0
        ]
    assert clean[("ad_campaign_hourly", D2)]["mart_amount"] == spend > Decimal(0)


def test_marts_are_as_pinned(wh: Settings, clean: Rows) -> None:
    assert_marts_match_pinned(wh, "every_source")


def test_a_lost_day_of_reviews_is_flagged_and_clears_on_reload(wh: Settings, clean: Rows) -> None:
    with connect(wh) as conn:
        conn.execute("delete from dwd.review where ds = %s", (D1,))
    build(wh, MODEL)  # only the mart: dws_asin_daily still counts the lost reviews
    assert not_ok(wh) == {
        ("review", D1): "missing_partition: the DWD partition has rows but dwd.review has none"
    }
    load_dwd_partitions(wh, "review", [D1])
    build(wh)
    assert not_ok(wh) == {}


def test_an_ad_mart_off_by_a_cent_is_flagged(wh: Settings, clean: Rows) -> None:
    with connect(wh) as conn:
        conn.execute(
            "update dws.dws_ad_campaign_daily set spend = spend + 0.01 where ds = %s and campaign_id ="
            " (select min(campaign_id) from dws.dws_ad_campaign_daily where ds = %s)",
            (D2, D2),
        )
    build(wh, MODEL)
    assert not_ok(wh) == {
        (
            "ad_campaign_hourly",
            D2,
        ): "postgres_mart_mismatch: dws_ad_campaign_daily differs from dwd.ad_campaign_hourly"
    }
    drifted = rows(wh)[("ad_campaign_hourly", D2)]
    assert drifted["mart_amount"] == drifted["postgres_amount"] + Decimal("0.01")
    assert drifted["mart_mismatched_groups"] == 1
    build(wh)
    assert not_ok(wh) == {}


def test_an_incremental_run_rechecks_its_window_and_the_days_its_spark_runs_rebuilt(
    wh: Settings, clean: Rows
) -> None:
    """A D2 run re-checks D1 (the D2 shipment run rebuilt it) but not a day no run of D2 touched."""
    d0 = D1 - timedelta(days=10)
    with connect(wh) as conn:
        conn.execute(
            "delete from dwd.shipment where ctid = (select min(ctid) from dwd.shipment where ds = %s)", (D1,)
        )
        # a stray review day no Spark run wrote: Postgres holds a row its lake partition lacks
        conn.execute("create temp table stray as select * from dwd.review where ds = %s limit 1", (D1,))
        conn.execute("update stray set ds = %s", (d0,))
        conn.execute("insert into dwd.review select * from stray")
    result = build_day_range(wh, D2, D2, select=[MODEL])
    assert not result.failed
    assert not_ok(wh) == {
        ("shipment", D1): "dwd_postgres_mismatch: dwd.shipment rows differ from the DWD partition"
    }
    build(wh, MODEL)  # a full build re-checks every day: the stray day too
    assert not_ok(wh) == {
        ("shipment", D1): "dwd_postgres_mismatch: dwd.shipment rows differ from the DWD partition",
        # no run wrote d0 (dwd_postgres_mismatch) and the mart was not rebuilt: the first rule wins
        ("review", d0): "missing_partition: dwd.review has rows but dws_asin_daily has none",
    }
    with connect(wh) as conn:
        conn.execute("delete from dwd.review where ds = %s", (d0,))
    load_dwd_partitions(wh, "shipment", [D1])
    build(wh)
    assert not_ok(wh) == {}
    assert (("review", d0) in rows(wh)) is False
