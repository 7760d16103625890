"""The quality gates as plain pipeline steps: what the DAG's ``validate_*`` tasks call.

Each gate takes settings and the business day, runs one layer's Great Expectations checkpoint, logs
counts and the data docs folder, and returns a small JSON-able summary; a failed expectation raises
:class:`ops.quality.engine.DataQualityError` naming the layer, entity or mart, ds, expectation and the
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
    from ops.quality.docs import docs_dir

    result = {
        "layer": layer,
        "checked": {s.entity: sum(r.rows for r in s.partitions.values()) for s in summaries},
        "expectations": sum(s.expectations_evaluated for s in summaries),
        "data_docs": str(docs_dir(settings) / "index.html"),
    }
    log.info("%s gate passed: %s", layer, result)
    return result


def validate_ods_sources(
    settings: Settings, ds: date, sources: Iterable[str] | None = None
) -> dict[str, Any]:
    """ODS gate on every entity ``sources`` landed for ``ds`` (every source of the registry by default)."""
    from connectors.registry import SOURCES
    from ops.quality.ods import source_entities, validate_ods

    pairs = source_entities(SOURCES if sources is None else sources)
    return _summary("ODS", validate_ods(settings, pairs, ds), settings)


def validate_dwd(settings: Settings, start: date, end: date, built: Mapping[str, Any]) -> dict[str, Any]:
    """DWD gate on every partition ``built`` (a :func:`ops.pipeline.build_dwd` summary) rewrote.

    Every day of [start, end] is checked too (a daily snapshot feed must have each of its days), and every
    entity is checked before raising, so one alert names every broken entity and partition.
    """
    from ops.quality.dwd import validate_dwd_partitions
    from ops.quality.engine import DataQualityError, raise_if_failed

    interval = [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]
    summaries = []
    for entity, run in built.items():
        days = sorted({*interval, *(date.fromisoformat(day) for day in run["days"])})
        required = interval if entity in DAILY_SNAPSHOT_ENTITIES else []
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
