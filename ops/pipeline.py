"""The daily pipeline as plain functions: what each DAG task (and a CLI backfill) calls.

Each step takes settings and a business-date interval, does one thing, logs counts in and out and
returns a small JSON-able summary (it travels through XCom). Heavy imports stay inside the steps so
DAG parsing stays fast.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ops.settings import Settings

log = logging.getLogger(__name__)

ORDER_ITEM = "order_item"


def days_between(start: date, end: date) -> list[date]:
    """Inclusive list of days; an empty interval is a caller error, not a silent no-op."""
    if end < start:
        raise ValueError(f"interval end {end} is before start {start}")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def dwd_days(settings: Settings, start: date, end: date) -> list[date]:
    """DWD partitions an ODS interval can change: late updates reach back ``dwd_lookback_days``."""
    return days_between(start - timedelta(days=settings.dwd_lookback_days), end)


def ingest_orders(settings: Settings, ds: date) -> dict[str, Any]:
    from connectors.ingest import ingest_orders_day

    manifest = ingest_orders_day(settings, ds)
    summary = {
        "ds": ds.isoformat(),
        "received": manifest.records_received,
        "landed": manifest.records_landed,
        "quarantined": manifest.records_quarantined,
        "requests": manifest.requests,
    }
    log.info("ingest orders %s: %s", ds, summary)
    return summary


def source_names() -> list[str]:
    """Sources landed to ODS by the mapped ingest task (orders has its own path into DWD)."""
    from connectors.registry import SPECS

    return sorted(SPECS)


def ingest_source(settings: Settings, source: str, ds: date) -> dict[str, Any]:
    """Land one source's day into ODS (every entity it declares); cursors move only after landing."""
    from connectors.ingest import ingest_source_day

    manifests = ingest_source_day(settings, source, ds)
    summary = {
        "source": source,
        "ds": ds.isoformat(),
        "entities": {
            m.entity: {
                "received": m.records_received,
                "landed": m.records_landed,
                "quarantined": m.records_quarantined,
            }
            for m in manifests
        },
    }
    log.info("ingest %s %s: %s", source, ds, summary["entities"])
    return summary


SOURCE_DWD_SPECS = (
    "asin_daily_snapshot",
    "review",
    "shop_health_daily",
    "ad_campaign_hourly",
    "campaign_exposure",
    "tracking_event",
    "refund",  # one row per refunded order line: explodes each event's ShipmentItemAdjustmentList
    "shipment",  # rebuilds its look-back window of created days
    "catalog_item",  # SCD2: also rewrites the partitions whose versions it closed
)


def build_source_dwd(settings: Settings, ds: date) -> dict[str, Any]:
    """ODS → DWD Parquet for the source entities; says which partitions each rewrote (what to load)."""
    from pyspark.sql import SparkSession

    from spark_jobs.entity_job import days_to_load, run_entity
    from spark_jobs.session import build_spark_session

    specs = _source_dwd_specs()
    active = SparkSession.getActiveSession()
    spark = active or build_spark_session(settings, app_name=f"mercator-source-dwd-{ds}")
    try:
        counts = {spec.entity: run_entity(spark, settings, spec, ds) for spec in specs}
    finally:
        if active is None:
            spark.stop()
    summary = {
        spec.entity: {
            "rows_in": counts[spec.entity].rows_in,
            "rows_out": counts[spec.entity].rows_out,
            "rejected": counts[spec.entity].rows_rejected,
            "days": [day.isoformat() for day in days_to_load(spec, counts[spec.entity])],
            # Multi-day jobs remove the days they left without rows: the load mirrors that in Postgres.
            "clear_missing": bool(spec.lookback or spec.publish is not None),
        }
        for spec in specs
    }
    log.info("source dwd %s: %s", ds, summary)
    return summary


def load_source_dwd(settings: Settings, built: dict[str, Any]) -> dict[str, int]:
    """Load what :func:`build_source_dwd` rewrote (after its quality gate): rows loaded per entity."""
    from storage.loader import load_dwd_partitions

    loaded = {
        entity: sum(
            load_dwd_partitions(
                settings,
                entity,
                [date.fromisoformat(day) for day in run["days"]],
                clear_missing=run["clear_missing"],
            ).values()
        )
        for entity, run in built.items()
    }
    log.info("loaded source dwd: %s", loaded)
    return loaded


def _source_dwd_specs() -> list[Any]:
    import importlib

    return [importlib.import_module(f"spark_jobs.{entity}").SPEC for entity in SOURCE_DWD_SPECS]


def analyze_experiments(settings: Settings, ds: date) -> dict[str, Any]:
    """Analyse every campaign experiment whose outcome window closed by ``ds`` into the A/B mart."""
    from abtest.warehouse import analyze_finished_campaigns
    from storage.warehouse import connect

    with connect(settings) as conn:
        reports = analyze_finished_campaigns(conn, ds)
    summary = {"experiments": [report.experiment for report in reports]}
    log.info("experiments analysed as of %s: %s", ds, summary)
    return summary


def build_dwd(settings: Settings, start: date, end: date, source: str = "orders") -> dict[str, Any]:
    """ODS → DWD for every DWD partition the interval can change, in one Spark application."""
    from pyspark.sql import SparkSession

    from spark_jobs.order_header import run_order_headers
    from spark_jobs.order_items import run_order_items
    from spark_jobs.session import build_spark_session

    # Reuse a session the caller already runs (one Spark application per process); own it otherwise.
    active = SparkSession.getActiveSession()
    spark = active or build_spark_session(settings, app_name=f"mercator-dwd-{start}-{end}")
    # An interval is one job over a wider window: the last day's run with the lookback stretched back to
    # cover the first day's, instead of re-reading overlapping windows once per day.
    widened = settings.model_copy(
        update={"dwd_lookback_days": settings.dwd_lookback_days + (end - start).days}
    )
    started = time.monotonic()
    try:
        counts = run_order_items(spark, widened, end, source)
        # Order headers are aggregated from the items just written, over the same window of days.
        headers = run_order_headers(spark, settings, counts.window_start, counts.ds, source)
    finally:
        if active is None:
            spark.stop()
    summary = {
        "rows_in": counts.rows_in,
        "rows_out": counts.rows_out,
        "rejected": counts.rows_rejected,
        "duplicates": counts.duplicates_dropped,
        "partitions": len(counts.partitions),
        "orders": {"rows_in": headers.rows_in, "rows_out": headers.rows_out},
        "seconds": round(time.monotonic() - started, 1),
    }
    log.info("dwd order_item + orders from %s %s..%s: %s", source, start, end, summary)
    return summary


def validate_dwd(settings: Settings, start: date, end: date) -> dict[str, Any]:
    """Great Expectations gate on the DWD partitions the interval touched; raises DataQualityError."""
    from spark_jobs.quality import validate_dwd_partitions

    result = validate_dwd_partitions(settings, ORDER_ITEM, dwd_days(settings, start, end))
    summary = {"partitions": len(result.partitions), "expectations": result.expectations_evaluated}
    log.info("dwd validation %s..%s passed: %s", start, end, summary)
    return summary


def load_dwd(settings: Settings, start: date, end: date) -> dict[str, Any]:
    from storage.loader import load_dwd_partitions

    orders = "orders"  # order headers (spark_jobs/order_header.py); `order` is an SQL reserved word
    days = dwd_days(settings, start, end)
    loaded = load_dwd_partitions(settings, ORDER_ITEM, days)
    # build_dwd removes the header days it left without rows: clear_missing mirrors that in Postgres.
    headers = load_dwd_partitions(settings, orders, days, clear_missing=True)
    summary = {
        "partitions": len(loaded),
        "rows": sum(loaded.values()),
        "orders": {"partitions": sum(n > 0 for n in headers.values()), "rows": sum(headers.values())},
    }
    log.info("loaded dwd.%s and dwd.%s %s..%s: %s", ORDER_ITEM, orders, start, end, summary)
    return summary


DBT_LAYERS: dict[str, tuple[str, ...]] = {
    # what each dbt task of the DAG builds (models with their tests and unit tests), in this order
    "dws": ("path:models/staging", "path:models/dws"),
    "ads": ("path:models/ads",),
}


def transform(settings: Settings, start: date, end: date, layer: str | None = None) -> dict[str, Any]:
    """dbt build (models + tests) for the DWD days the interval touched: one layer, or all of them.

    The summary lists every model with its rows and every failed or warned test, so the task's XCom
    and log show what dbt did without opening dbt's own logs.
    """
    from ops.dbt_runner import build_day_range

    days = dwd_days(settings, start, end)
    select = DBT_LAYERS[layer] if layer else ()
    result = build_day_range(settings, days[0], days[-1], select=select)
    summary = {
        "layer": layer or "all",
        "nodes": len(result.nodes),
        "models": {n.name: n.rows_affected for n in result.nodes if n.resource_type == "model"},
        "tests_passed": sum(n.status == "pass" for n in result.nodes),
        "warnings": [n.name for n in result.nodes if n.status == "warn"],
        "seconds": round(result.elapsed_seconds, 1),
    }
    log.info("dbt build %s %s..%s: %s", summary["layer"], days[0], days[-1], summary)
    return summary


def train_churn(settings: Settings, as_of: date) -> dict[str, Any]:
    from training.churn.train import ChurnTrainConfig
    from training.churn.train import train_churn as train

    result = train(settings, as_of, ChurnTrainConfig(min_feature_days=settings.churn_min_feature_days))
    summary = {"version": result.version, "aliases": list(result.aliases), "metrics": result.metrics}
    log.info("churn model trained as of %s: %s", as_of, summary)
    return summary


def score_churn(settings: Settings, as_of: date) -> dict[str, Any]:
    from training.churn.score import score_churn as score

    rows = score(settings, as_of)
    log.info("churn scores for %s: %s rows", as_of, rows)
    return {"score_date": as_of.isoformat(), "rows": rows}


def train_model(
    settings: Settings, model: str, as_of: date, source: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Train one factory model (``churn``, ``ranker``) through ``as_of``; promotion decides its alias."""
    from training.models import model_entry

    summary = model_entry(model).train(settings, as_of, source).summary()
    log.info("%s trained as of %s: %s", model, as_of, summary)
    return summary


def score_model(settings: Settings, model: str, as_of: date) -> dict[str, Any]:
    """Score day ``as_of`` with the model's ``@champion``."""
    from training.models import model_entry

    rows = model_entry(model).score(settings, as_of)
    log.info("%s scores for %s: %s rows", model, as_of, rows)
    return {"model": model, "score_date": as_of.isoformat(), "rows": rows}


def monitor_model(settings: Settings, model: str, day: date) -> dict[str, Any]:
    """The model's row of ads.ads_model_monitor for ``day`` (score PSI, realised metric once mature)."""
    from training.monitor import MONITORS

    if model not in MONITORS:
        raise ValueError(f"no monitor for model {model!r}; monitored: {sorted(MONITORS)}")
    return MONITORS[model](settings, day)


def backfill(settings: Settings, start: date, end: date) -> dict[str, Any]:
    """Many days at once: ingest each day, then one Spark application, one load and one dbt build."""
    days = days_between(start, end)
    started = time.monotonic()
    landed = 0
    for index, ds in enumerate(days, 1):
        landed += ingest_orders(settings, ds)["landed"]
        if index % 10 == 0 or index == len(days):
            rate = landed / max(time.monotonic() - started, 1e-9)
            log.info(
                "backfill ingest: %d/%d days, %d records (%.0f records/s)", index, len(days), landed, rate
            )
    summary = {
        "days": len(days),
        "landed": landed,
        "dwd": build_dwd(settings, start, end),
        "validation": validate_dwd(settings, start, end),
        "load": load_dwd(settings, start, end),
        "dbt": transform(settings, start, end),
    }
    log.info("backfill %s..%s done in %.0fs", start, end, time.monotonic() - started)
    return summary


def import_to_marts(
    settings: Settings, mapping: str, start: date, end: date, *, data_dir: Path | None = None
) -> dict[str, Any]:
    """A file export all the way to the marts: land ODS, build DWD, gate it, load it, run dbt."""
    from connectors.importers.importer import import_export, resolve_mapping
    from connectors.ingest import record_manifests

    manifests = import_export(settings, resolve_mapping(mapping), start, end, data_dir=data_dir)
    if not manifests:
        raise ValueError(f"export {mapping!r} has no purchase days in {start}..{end}")
    record_manifests(settings, manifests)  # the imported days reconcile in ads_reconciliation too
    summary = {
        "source": manifests[0].source,
        "days": len(manifests),
        "landed": sum(m.records_landed for m in manifests),
        "quarantined": sum(m.records_quarantined for m in manifests),
        "dwd": build_dwd(settings, start, end, source=manifests[0].source),
        "validation": validate_dwd(settings, start, end),
        "load": load_dwd(settings, start, end),
        "dbt": transform(settings, start, end),
    }
    log.info("imported %s %s..%s into the marts: %s", mapping, start, end, summary)
    return summary
