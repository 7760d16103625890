"""The quality gates as plain pipeline steps: what the DAG's ``validate_*`` tasks call.

Each gate takes settings and the business day, runs one layer's Great Expectations checkpoint, logs
counts and the data docs folder, and returns a small JSON-able summary; a failed expectation raises
:class:`spark_jobs.quality.DataQualityError` naming the layer, entity or mart, ds, expectation and the
observed value (the DAG turns it into a failure without retries). GX is imported inside the steps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from ops.settings import Settings

log = logging.getLogger(__name__)

# Daily snapshots: every ASIN and shop has a row every day, so a missing partition means a stale feed.
DAILY_SNAPSHOT_ENTITIES = ("asin_daily_snapshot", "shop_health_daily")


def _summary(layer: str, summaries: Sequence[Any], settings: Settings) -> dict[str, Any]:
    from spark_jobs.quality.docs import docs_dir

    result = {
        "layer": layer,
        "checked": {s.entity: sum(r.rows for r in s.partitions.values()) for s in summaries},
        "expectations": sum(s.expectations_evaluated for s in summaries),
        "data_docs": str(docs_dir(settings) / "index.html"),
    }
    log.info("%s gate passed: %s", layer, result)
    return result


def validate_ods_orders(settings: Settings, ds: date) -> dict[str, Any]:
    """ODS gate on the day's orders landing, before Spark reads it."""
    from connectors.orders import ORDER, SOURCE
    from ops.quality.ods import validate_ods

    return _summary("ODS", validate_ods(settings, [(SOURCE, ORDER.entity)], ds), settings)


def validate_ods_sources(
    settings: Settings, ds: date, sources: Iterable[str] | None = None
) -> dict[str, Any]:
    """ODS gate on every entity the mapped source ingest landed for ``ds`` (all REST sources by default)."""
    from connectors.registry import SPECS
    from ops.quality.ods import source_entities, validate_ods

    pairs = source_entities(SPECS if sources is None else sources)
    return _summary("ODS", validate_ods(settings, pairs, ds), settings)


def _rewritten_days(built: Mapping[str, Any] | None, entity: str, ds: date) -> list[date]:
    """The partitions the build rewrote for ``entity`` (its ``days``), always with the run's own day.

    A look-back or SCD2 job rewrites more than ``ds`` (a shipment's created days, the partitions whose
    versions a new one closed); each of those goes to Postgres next, so each is checked here.
    """
    days = (built or {}).get(entity, {}).get("days", [])
    return sorted({ds, *(date.fromisoformat(day) for day in days)})


def validate_source_dwd(
    settings: Settings,
    ds: date,
    built: Mapping[str, Any] | None = None,
    entities: Iterable[str] | None = None,
) -> dict[str, Any]:
    """DWD gate on what the source build rewrote (``built``: its summary; without it, partition ``ds``).

    Every entity is checked before raising, so one alert names every broken entity and partition.
    """
    from spark_jobs.quality import DataQualityError, validate_dwd_partitions
    from spark_jobs.quality.engine import raise_if_failed
    from spark_jobs.quality.entity_suites import SOURCE_ENTITIES

    summaries = []
    for entity in SOURCE_ENTITIES if entities is None else tuple(entities):
        days = _rewritten_days(built, entity, ds)
        required = [ds] if entity in DAILY_SNAPSHOT_ENTITIES else []
        try:
            summaries.append(validate_dwd_partitions(settings, entity, days, required=required))
        except DataQualityError as error:
            summaries.extend(error.summaries)
    raise_if_failed(summaries)
    return _summary("DWD", summaries, settings)


def validate_ads(settings: Settings, ds: date) -> dict[str, Any]:
    """ADS gate after dbt: each mart's row count and key metrics against its previous passing day."""
    from ops.quality.ads import validate_ads as validate

    return _summary("ADS", validate(settings, ds), settings)
