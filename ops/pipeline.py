"""The pipeline as plain functions: what each DAG task, ``mercator backfill`` and ``mercator import`` call.

One chain for every source: ingest → ODS gate → Spark DWD → DWD gate → load → dbt. Each step takes
settings and an explicit business-date interval (and the sources it covers), does one thing, logs counts
in and out and returns a small JSON-able summary (it travels through XCom); ``build_dwd`` says which DWD
partitions it rewrote, and the gate and the loader take exactly those. Heavy imports stay inside the
steps so DAG parsing stays fast.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from ops.settings import Settings

log = logging.getLogger(__name__)


def days_between(start: date, end: date) -> list[date]:
    """Inclusive list of days; an empty interval is a caller error, not a silent no-op."""
    if end < start:
        raise ValueError(f"interval end {end} is before start {start}")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def refuse_future_days(settings: Settings, end: date) -> None:
    """Refuse a run whose last business day is not over yet (beyond the clock-skew allowance).

    The ingest refuses such a day too; checking before anything starts spares a backfill or a DAG run
    the work (and the task retries) that would end in that error.
    """
    from connectors.ingest import refuse_future

    refuse_future(settings, f"ds={end}", datetime.combine(end + timedelta(days=1), dt_time.min, tzinfo=UTC))


def dwd_days(settings: Settings, start: date, end: date) -> list[date]:
    """DWD partitions an ODS interval can change: late updates reach back ``dwd_lookback_days``."""
    return days_between(start - timedelta(days=settings.dwd_lookback_days), end)


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


def ingest(settings: Settings, start: date, end: date, sources: Sequence[str]) -> dict[str, int]:
    """Every day of [start, end] of every source, oldest day first; records landed per source."""
    days = days_between(start, end)
    started = time.monotonic()
    landed = dict.fromkeys(sources, 0)
    for index, ds in enumerate(days, 1):
        for source in sources:
            landed[source] += sum(
                e["landed"] for e in ingest_source(settings, source, ds)["entities"].values()
            )
        if index % 10 == 0 or index == len(days):
            rate = sum(landed.values()) / max(time.monotonic() - started, 1e-9)
            log.info("ingest: %d/%d days, %s records (%.0f records/s)", index, len(days), landed, rate)
    return landed


def validate_ods(settings: Settings, start: date, end: date, sources: Sequence[str]) -> dict[str, Any]:
    """The ODS gate on every landed day of the interval, before Spark reads it."""
    from ops.quality.gates import validate_ods_sources

    gated = [s for s in sources if s in _api_sources()]  # file imports are validated while they land
    checked = [validate_ods_sources(settings, ds, gated) for ds in days_between(start, end)] if gated else []
    return {"days": len(checked), "expectations": sum(c["expectations"] for c in checked)}


def _api_sources() -> tuple[str, ...]:
    from connectors.registry import SOURCES

    return SOURCES


def build_dwd(settings: Settings, start: date, end: date, sources: Sequence[str]) -> dict[str, Any]:
    """ODS → DWD Parquet for every entity of ``sources`` over [start, end], in one Spark application.

    Says, per entity, which partitions the build rewrote: what the DWD gate checks and the loader loads.
    """
    from pyspark.sql import SparkSession

    from spark_jobs.registry import flat_specs_of, is_order_source
    from spark_jobs.session import build_spark_session

    # Reuse a session the caller already runs (one Spark application per process); own it otherwise.
    active = SparkSession.getActiveSession()
    spark = active or build_spark_session(settings, app_name=f"mercator-dwd-{start}-{end}")
    built: dict[str, Any] = {}
    try:
        for source in (s for s in sources if is_order_source(s)):
            _merge(built, _build_orders(spark, settings, start, end, source))
        for spec in flat_specs_of(sources):
            _merge(built, _build_flat(spark, settings, spec, start, end))
    finally:
        if active is None:
            spark.stop()
    log.info("dwd %s..%s of %s: %s", start, end, ",".join(sources), built)
    return built


def _merge(built: dict[str, Any], runs: dict[str, Any]) -> None:
    """Add one build's entities to the summary: days unite, counts add up."""
    for entity, run in runs.items():
        if entity not in built:
            built[entity] = run
            continue
        seen = built[entity]
        seen["days"] = sorted({*seen["days"], *run["days"]})
        for count in ("rows_in", "rows_out", "rejected"):
            seen[count] += run[count]


def _build_orders(spark: Any, settings: Settings, start: date, end: date, source: str) -> dict[str, Any]:
    """Order items of one channel source over the interval in one job, then their headers."""
    from spark_jobs.order_header import run_order_headers
    from spark_jobs.order_items import run_order_items
    from spark_jobs.registry import ORDER_HEADER, ORDER_ITEM

    # An interval is one job over a wider window: the last day's run with the lookback stretched back to
    # cover the first day's, instead of re-reading overlapping windows once per day.
    widened = settings.model_copy(
        update={"dwd_lookback_days": settings.dwd_lookback_days + (end - start).days}
    )
    items = run_order_items(spark, widened, end, source)
    headers = run_order_headers(spark, settings, items.window_start, items.ds, source)
    days = [day.isoformat() for day in dwd_days(settings, start, end)]
    return {
        ORDER_ITEM: {
            "days": days,
            "clear_missing": False,
            "rows_in": items.rows_in,
            "rows_out": items.rows_out,
            "rejected": items.rows_rejected,
        },
        # The header job removes the days it left without rows: clear_missing mirrors that in Postgres.
        ORDER_HEADER: {
            "days": days,
            "clear_missing": True,
            "rows_in": headers.rows_in,
            "rows_out": headers.rows_out,
            "rejected": 0,
        },
    }


def _build_flat(spark: Any, settings: Settings, spec: Any, start: date, end: date) -> dict[str, Any]:
    """One flat entity, day by day (a day's run reads that ODS day, or its look-back window)."""
    from spark_jobs.entity_job import days_to_load, run_entity

    built: dict[str, Any] = {}
    for ds in days_between(start, end):
        counts = run_entity(spark, settings, spec, ds)
        run = {
            "days": [day.isoformat() for day in days_to_load(spec, counts)],
            # Multi-day jobs remove the days they left without rows: the load mirrors that in Postgres.
            "clear_missing": bool(spec.lookback or spec.publish is not None),
            "rows_in": counts.rows_in,
            "rows_out": counts.rows_out,
            "rejected": counts.rows_rejected,
        }
        _merge(built, {spec.entity: run})
    return built


def validate_dwd(settings: Settings, start: date, end: date, built: dict[str, Any]) -> dict[str, Any]:
    """Great Expectations gate on every DWD partition the build rewrote; raises DataQualityError."""
    from ops.quality.gates import validate_dwd as gate

    return gate(settings, start, end, built)


def load_dwd(settings: Settings, built: dict[str, Any]) -> dict[str, int]:
    """Load what :func:`build_dwd` rewrote (after its quality gate): rows loaded per entity."""
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
    log.info("loaded dwd: %s", loaded)
    return loaded


def analyze_experiments(settings: Settings, ds: date) -> dict[str, Any]:
    """Analyse every campaign experiment whose outcome window closed by ``ds`` into the A/B mart."""
    from abtest.warehouse import analyze_finished_campaigns
    from storage.warehouse import connect

    with connect(settings) as conn:
        reports = analyze_finished_campaigns(conn, ds)
    summary = {"experiments": [report.experiment for report in reports]}
    log.info("experiments analysed as of %s: %s", ds, summary)
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


def run_chain(settings: Settings, start: date, end: date, sources: Sequence[str]) -> dict[str, Any]:
    """Landed ODS → every gate → DWD → Postgres → dbt for the interval: what every caller runs."""
    ods_gate = validate_ods(settings, start, end, sources)  # before Spark reads a single record
    built = build_dwd(settings, start, end, sources)
    dwd_gate = validate_dwd(settings, start, end, built)  # before anything reaches Postgres
    return {
        "ods_gate": ods_gate,
        "dwd": built,
        "dwd_gate": dwd_gate,
        "load": load_dwd(settings, built),
        "dbt": transform(settings, start, end),
    }


def backfill(
    settings: Settings, start: date, end: date, sources: Sequence[str] | None = None
) -> dict[str, Any]:
    """Many days at once: ingest each day of every source, then one chain over the whole interval."""
    refuse_future_days(settings, end)
    sources = tuple(sources or _api_sources())
    started = time.monotonic()
    landed = ingest(settings, start, end, sources)
    summary = {
        "days": len(days_between(start, end)),
        "landed": landed,
        **run_chain(settings, start, end, sources),
    }
    log.info("backfill %s..%s of %s done in %.0fs", start, end, ",".join(sources), time.monotonic() - started)
    return summary


def import_to_marts(
    settings: Settings, mapping: str, start: date, end: date, *, data_dir: Path | None = None
) -> dict[str, Any]:
    """A file export all the way to the marts: land ODS, then the same chain as every source."""
    from connectors.importers.importer import import_export, resolve_mapping
    from connectors.ingest import record_manifests

    manifests = import_export(settings, resolve_mapping(mapping), start, end, data_dir=data_dir)
    if not manifests:
        raise ValueError(f"export {mapping!r} has no purchase days in {start}..{end}")
    record_manifests(settings, manifests)  # the imported days reconcile in ads_reconciliation too
    source = manifests[0].source
    summary = {
        "source": source,
        "days": len(manifests),
        "landed": sum(m.records_landed for m in manifests),
        "quarantined": sum(m.records_quarantined for m in manifests),
        **run_chain(settings, start, end, [source]),
    }
    log.info("imported %s %s..%s into the marts: %s", mapping, start, end, summary)
    return summary
