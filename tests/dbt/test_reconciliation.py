"""ads_reconciliation on the real pipeline: sandbox API → ODS → Spark DWD → Postgres → dbt.

Two sandbox days of orders are landed by the real connector (with duplicated records, so the DWD run
drops some), built into DWD by the real Spark job, loaded by the real loader and modelled by real dbt
in a database of the module's own. A clean run is all `ok`; then one fault at a time is planted (and
undone): a dropped Postgres partition, a partly lost one, a drifted mart, an ODS manifest holding more
records than DWD read, and a manifest the run log lost (the ingest logs it again on its next run).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import orjson
import pytest

from connectors.http import HttpConfig
from connectors.ingest import ingest_source_day, record_manifests
from connectors.landing import Manifest, land_resource, published_manifest
from connectors.orders import ORDER, SOURCE
from connectors.record_schema import parse_timestamp
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import RunningSandbox, sandbox_server
from connectors.source import Page, Resource, Window
from ops.settings import Settings
from spark_jobs.order_items import run_order_items
from storage.lake import Lake, local_path
from storage.loader import load_dwd_partitions
from storage.warehouse import connect
from tests.conftest import OwnWarehouse
from tests.dbt.conftest import assert_marts_match_pinned
from tests.dbt.reconciliation_run import MODEL, build, reconciliation_rows

D1 = date(2025, 11, 3)
D2 = D1 + timedelta(days=1)
DAYS = (D1, D2)
SANDBOX = SandboxConfig(seed=7, rate_limit_per_second=200, faults=FaultConfig(duplicate_rate=0.02))
Status = dict[date, dict]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with sandbox_server(SANDBOX) as running:
        yield running


@pytest.fixture(scope="module")
def wh(
    own_warehouse: OwnWarehouse, sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Settings with a database (no DWD table yet: the loader creates it) and a lake of the module's own,
    aimed at the module's sandbox."""
    return own_warehouse(
        "mercator_dbt_reconciliation_tests",
        dwd_tables=(),
        sandbox_port=sandbox.port,
        lake_uri_override=(tmp_path_factory.mktemp("recon") / "lake").as_uri(),
        orders_requests_per_second=200.0,
    )


def _http(settings: Settings) -> HttpConfig:
    return HttpConfig(settings.orders_api_url, 200.0, max_attempts=8, backoff_initial_seconds=0.02)


def _window(ds: date, settings: Settings) -> list[date]:
    return [ds - timedelta(days=n) for n in range(settings.dwd_lookback_days, -1, -1)]


@pytest.fixture(scope="module")
def manifests(wh: Settings, spark) -> dict[date, Manifest]:
    """The daily chain for each day, as the DAG runs it: ingest, Spark DWD, load."""
    landed = {}
    for ds in DAYS:
        landed[ds] = ingest_source_day(wh, "orders", ds, http=_http(wh))[0]
        run_order_items(spark, wh, ds)
        load_dwd_partitions(wh, "order_item", _window(ds, wh))
    return landed


def statuses(settings: Settings) -> Status:
    return {
        row["ds"]: row
        for row in reconciliation_rows(settings, "source_name = 'orders' and entity = 'order_item'")
    }


def reload(settings: Settings) -> None:
    load_dwd_partitions(settings, "order_item", list(DAYS))


@pytest.fixture(scope="module")
def clean(wh: Settings, manifests: dict[date, Manifest]) -> Status:
    result = build(wh)
    for name in (
        f"accepted_values_{MODEL}_status__ok__ods_quarantined__missing_partition__ods_dwd_mismatch"
        "__dwd_postgres_mismatch__postgres_mart_mismatch",
        f"unique_combination_of_columns_{MODEL}_source_name__entity__ds",
    ):
        assert result.node(name).status == "pass", name
    return statuses(wh)


def test_a_clean_run_reconciles_at_every_layer(
    wh: Settings, manifests: dict[date, Manifest], clean: Status
) -> None:
    assert set(clean) == set(DAYS)
    with connect(wh) as conn:
        assert conn.execute(f"select count(*) from ads.{MODEL}").fetchone()[0] == len(DAYS)
        in_postgres = dict(conn.execute("select ds, count(*) from dwd.order_item group by ds").fetchall())
        gmv = dict(
            conn.execute(
                "select ds, sum(item_amount) from dwd.order_item"
                " where order_status <> 'cancelled' group by ds"
            ).fetchall()
        )
    for ds, row in clean.items():
        assert (row["status"], row["status_reason"], row["is_ok"]) == ("ok", "ok", True), row
        assert row["ods_records_landed"] == manifests[ds].records_landed > 0
        assert row["ods_records_received"] == manifests[ds].records_received
        assert row["dwd_run_ds"] == D2  # the D2 run read both ODS days (its look-back window)
        assert row["dwd_partition_rows"] == row["postgres_rows"] == in_postgres[ds] > 0
        assert row["postgres_amount"] == row["mart_amount"] == gmv[ds] > Decimal(0)
        assert row["postgres_count"] == row["mart_count"] > 0  # orders, live and cancelled
        assert (row["mart_model"], row["mart_mismatched_groups"]) == ("dws_marketplace_daily", 0)
    d2 = clean[D2]
    assert (
        d2["dwd_ods_records_read"]
        == d2["dwd_ods_records_expected"]
        == sum(m.records_landed for m in manifests.values())
    )
    assert d2["dwd_duplicates_dropped"] > 0  # the sandbox duplicated records; DWD dropped them
    assert d2["dwd_rows_in"] == (
        d2["dwd_rows_out"]
        + d2["dwd_duplicates_dropped"]
        + d2["dwd_rows_rejected"]
        + d2["dwd_rows_outside_window"]
    )


def test_marts_are_as_pinned(wh: Settings, clean: Status) -> None:
    assert_marts_match_pinned(wh, "orders_pipeline")


def test_a_dropped_postgres_partition_is_flagged(wh: Settings, clean: Status) -> None:
    with connect(wh) as conn:
        conn.execute("delete from dwd.order_item where ds = %s", (D1,))
    build(wh)
    after = statuses(wh)
    assert after[D1]["status"] == "missing_partition"
    assert "dwd.order_item has none" in after[D1]["status_reason"]
    assert (after[D1]["postgres_rows"], after[D1]["dwd_partition_rows"]) == (0, clean[D1]["postgres_rows"])
    assert after[D2]["status"] == "ok"
    reload(wh)
    build(wh)
    assert {row["status"] for row in statuses(wh).values()} == {"ok"}


def test_a_partly_lost_partition_is_a_dwd_postgres_mismatch(wh: Settings, clean: Status) -> None:
    with connect(wh) as conn:
        conn.execute(
            "delete from dwd.order_item where ds = %s and order_item_id ="
            " (select min(order_item_id) from dwd.order_item where ds = %s)",
            (D2, D2),
        )
    build(wh)
    after = statuses(wh)
    assert after[D2]["status"] == "dwd_postgres_mismatch"
    assert after[D2]["postgres_rows"] == clean[D2]["postgres_rows"] - 1
    assert after[D1]["status"] == "ok"
    reload(wh)


def test_a_mart_that_drifted_from_postgres_is_flagged(wh: Settings, clean: Status) -> None:
    build(wh)  # DWS back in line with the reloaded partition
    with connect(wh) as conn:
        conn.execute(
            "update dws.dws_marketplace_daily set gmv = gmv + 0.01 where ds = %s and marketplace ="
            " (select min(marketplace) from dws.dws_marketplace_daily where ds = %s)",
            (D1, D1),
        )
    build(wh, MODEL)  # only the mart: the drifted DWS row stays
    after = statuses(wh)
    assert after[D1]["status"] == "postgres_mart_mismatch"
    assert after[D1]["mart_amount"] == after[D1]["postgres_amount"] + Decimal("0.01")
    assert after[D1]["mart_mismatched_groups"] == 1
    assert after[D2]["status"] == "ok"
    build(wh)
    assert {row["status"] for row in statuses(wh).values()} == {"ok"}

    with connect(wh) as conn:  # units are compared too, though only counts and amounts are reported
        conn.execute("update dws.dws_marketplace_daily set units = units + 1 where ds = %s", (D2,))
    build(wh, MODEL)
    after = statuses(wh)
    assert after[D2]["status"] == "postgres_mart_mismatch"
    assert after[D2]["mart_amount"] == clean[D2]["mart_amount"]  # GMV and orders agree: units did not
    build(wh)
    assert {row["status"] for row in statuses(wh).values()} == {"ok"}


def reland_with_copies(settings: Settings, ds: date, copies: int) -> Manifest:
    """Land the day again with ``copies`` of its first records repeated (what a replayed page does)."""
    landed = published_manifest(settings, SOURCE, ORDER.entity, ds)
    assert landed is not None
    partition = local_path(Lake(settings.lake_uri).ods_partition(SOURCE, ORDER.entity, ds))
    with gzip.open(partition / landed.data_file, "rb") as fh:
        records = [orjson.loads(line) for line in fh]
    resource = Resource(
        name=ORDER.entity,
        primary_key=("AmazonOrderId",),
        cursor_field="LastUpdateDate",
        schema_version=ORDER.schema.version,
        pages=lambda: iter([Page(number=1, records=records + records[:copies])]),
        validate=ORDER.schema.validate,
        known_fields=ORDER.schema.known_fields,
    )
    window = Window(parse_timestamp(landed.window_start), parse_timestamp(landed.window_end))
    manifest = land_resource(settings, SOURCE, resource, ds, window=window)
    record_manifests(settings, [manifest, landed])  # only the new one is logged: `landed` already was
    return manifest


def test_a_manifest_with_more_records_than_dwd_read_is_flagged(wh: Settings, spark, clean: Status) -> None:
    """D2 lands again with 3 more records after its Spark run: DWD has not read them yet."""
    bigger = reland_with_copies(wh, D2, 3)
    build(wh, MODEL)
    after = statuses(wh)
    assert after[D2]["ods_records_landed"] == bigger.records_landed == clean[D2]["ods_records_landed"] + 3
    assert after[D2]["dwd_ods_records_expected"] == after[D2]["dwd_ods_records_read"] + 3
    # one count per Spark run: every ODS day that run read is flagged, not only the re-landed one
    assert {ds: row["status"] for ds, row in after.items()} == dict.fromkeys(DAYS, "ods_dwd_mismatch")
    assert "another record count" in after[D2]["status_reason"]

    run_order_items(spark, wh, D2)  # the fix: rebuild the day (the copies are duplicates)
    load_dwd_partitions(wh, "order_item", _window(D2, wh))
    build(wh)
    fixed = statuses(wh)
    assert {row["status"] for row in fixed.values()} == {"ok"}
    assert fixed[D2]["dwd_ods_records_read"] == clean[D2]["dwd_ods_records_read"] + 3
    assert fixed[D2]["dwd_duplicates_dropped"] > clean[D2]["dwd_duplicates_dropped"]
    assert fixed[D2]["postgres_rows"] == clean[D2]["postgres_rows"]


def test_a_manifest_missing_from_the_run_log_is_logged_again(wh: Settings, clean: Status) -> None:
    """A crash between publishing D1 and committing its run-log row: the next run logs it, once."""
    with connect(wh) as conn:
        conn.execute("delete from ops.run_log where step = 'ingest' and ds = %s", (D1,))
    build(wh, MODEL)
    assert statuses(wh)[D1]["status"] == "missing_partition"
    for _ in range(2):
        ingest_source_day(wh, "orders", D1, http=_http(wh))[0]  # already landed: reused, not fetched
    with connect(wh) as conn:
        logged = conn.execute(
            "select count(*) from ops.run_log where step = 'ingest' and ds = %s", (D1,)
        ).fetchone()[0]
    assert logged == 1
    build(wh, MODEL)
    assert {row["status"] for row in statuses(wh).values()} == {"ok"}


def test_a_landed_day_no_spark_run_has_read_is_flagged(wh: Settings, clean: Status) -> None:
    """The next day lands in ODS but DWD has not been built for it yet."""
    d3 = D2 + timedelta(days=1)
    ingest_source_day(wh, "orders", d3, http=_http(wh))[0]
    build(wh, MODEL)
    after = statuses(wh)
    assert after[d3]["status"] == "missing_partition"
    assert "no Spark DWD run has read it" in after[d3]["status_reason"]
    assert (after[d3]["ods_records_landed"] or 0) > 0 and after[d3]["dwd_run_ds"] is None
    assert {after[ds]["status"] for ds in DAYS} == {"ok"}
