"""A small framework for flat ODS → DWD entity jobs: one declarative :class:`EntitySpec` per entity.

Every flat entity (one ODS record → one DWD row) goes through the same steps:

1. **read** ``ods/<source>/<entity>/ds=…`` with an explicit schema (every field read as its JSON text,
   so no inference and no record is lost to a type mismatch at parse time);
2. **pseudonymise** first: fields declared as PII become their keyed hash (:mod:`spark_jobs.pii`) before
   anything is cached or shuffled, so the clear value never leaves the scan;
3. **type** each field (strictly: a decimal that would be rounded, a boolean spelt ``"yes"``, an
   unparseable timestamp is a problem, not a silent null) and **conform** (trimmed text, upper-case
   currency codes, enums checked against their vocabulary, timestamps converted to UTC);
4. **dedupe** by business key: the latest version wins, i.e. the later ODS day, then the later record
   in the landed file (the later API response), then a content hash, so ties resolve the same way on
   every run;
5. **classify** every record as published, superseded (a duplicate) or rejected (with a reason); rejected
   records go to ``ods/_quarantine/<source>/dwd_<entity>/ds=…`` (never silently dropped);
6. **write** Parquet ``dwd/<entity>/ds=…``, replacing only the run's partition (dynamic overwrite), one
   file sorted by the business key, so a rerun gives byte-identical content;
7. **count**: rows in / out / duplicates / rejected into ``ops.run_log`` (step ``spark_dwd``);
   ``rows_in = rows_out + duplicates_dropped + rows_rejected`` always holds.

A run for ``ds`` reads the ODS partition ``ds`` and publishes the DWD partition ``ds``: the flat sources
land a day by the same business date DWD partitions by (the snapshot date, the UTC day of an hour or of a
send). A record whose business date is another day is rejected with that reason rather than written into
a partition this run does not rebuild completely.

Two options cover entities that are not one-ODS-day-per-partition:

* ``lookback=True`` (a record reappears in every ODS day where it changed, e.g. a shipment): the run
  reads the consecutive landed ODS days ``[ds - lookback, ds]`` (lookback: ``settings.dwd_lookback_days``
  or the spec's ``min_lookback_days``, whichever is longer), keeps the latest
  ``version_by`` per key, and rebuilds every partition of that window from them (a record of day *d*
  only changes on days >= *d*, so those ODS days hold every version of the window's records). Records
  whose partition day falls before the window are counted ``outside_window`` and left alone; window days
  that end up without rows are removed.
* ``publish``: an entity-specific writer (the SCD2 catalog) that receives the day's published rows and
  returns the partitions it rewrote.

``derived`` columns are computed from the typed fields (a unified code from a carrier's vocabulary); a
required derived value that comes out null rejects the record with its own reason, never a silent null.

Records with a nested list (a refund event's refunded lines) set ``explode`` to that top-level list field:
each element becomes its own row (``rows_in`` then counts elements), a field whose ``path`` is
``"<list>[].<name>"`` is read from the element, and a record whose list is missing, empty or not a list keeps
one row that is rejected with that reason. ``keep=False`` fields (an element's own sub-list, as JSON text)
are read and typed for ``derived`` columns and checks but not written to DWD.

This module runs those steps for one spec and is its command line; the steps live in their own modules:
:mod:`spark_jobs.entity_spec` (what an entity declares, and the counts a run reports),
:mod:`spark_jobs.entity_read` (steps 1 and 2), :mod:`spark_jobs.entity_typing` (3 to 5) and
:mod:`spark_jobs.entity_write` (the quarantine and 6).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from ops.settings import Settings
from spark_jobs.cli import add_days_argument, run_days
from spark_jobs.entity_read import ods_days, read_ods
from spark_jobs.entity_spec import ELEMENT_INDEX, EntityCounts, EntitySpec, log_counts
from spark_jobs.entity_typing import (
    OUTSIDE_WINDOW,
    PUBLISHED,
    REJECTED,
    SUPERSEDED,
    classify,
    partition_day,
    to_dwd,
)
from spark_jobs.entity_write import write_partition, write_quarantine, write_window
from spark_jobs.session import require_utc
from storage.lake import Lake

log = logging.getLogger(__name__)

STEP = "spark_dwd"
MAX_EXAMPLES = 5


def _log_reject_examples(spec: EntitySpec, classified: DataFrame) -> None:
    """Name a few rejected records (ODS partition, business key, reason) so an operator can find them."""
    key_fields = [f.name for f in spec.fields if f.out in spec.key]
    examples = (
        classified.filter(F.col("_fate") == REJECTED)
        .orderBy("_ods_ds", "_record")
        .select("_ods_ds", "_reason", *key_fields)
        .limit(MAX_EXAMPLES)
        .collect()
    )
    for row in examples:
        key = ", ".join(f"{name}={row[name]}" for name in key_fields)
        log.warning(
            "%s: rejected ODS %s/%s ds=%s record %s: %s",
            spec.entity,
            spec.source,
            spec.ods_name,
            row["_ods_ds"],
            key,
            row["_reason"],
        )


def _starts_record(spec: EntitySpec) -> Column:
    """True on one row per ODS record (an exploded record's first element), so the run can say how
    many ODS records it read: what the connector's manifests count."""
    if not spec.explode:
        return F.lit(True).alias("_starts_record")
    return (F.coalesce(F.col(ELEMENT_INDEX), F.lit(0)) == 0).alias("_starts_record")


def _tally(rows: list[Any]) -> tuple[Counter[str], Counter[str], dict[date, int]]:
    """Records per fate, rejects per reason and published rows per partition day."""
    by_fate: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    partitions: Counter[date] = Counter()
    for row in rows:
        by_fate[row["_fate"]] += row["count"]
        if row["_fate"] == REJECTED:
            reasons[row["_reason"]] += row["count"]
        if row["_fate"] == PUBLISHED:
            partitions[row["_pday"]] += row["count"]
    return by_fate, reasons, dict(sorted(partitions.items()))


def _publish(
    spark: SparkSession,
    lake: Lake,
    spec: EntitySpec,
    classified: DataFrame,
    ds: date,
    window: list[date],
    partitions: dict[date, int],
) -> dict[date, int]:
    """Write the published rows the spec's way; returns the partitions written → rows."""
    dwd = to_dwd(spec, classified)
    if spec.publish is not None:
        return spec.publish(spark, lake, spec, dwd, ds)
    if spec.lookback:
        write_window(spark, lake, spec, dwd, window, set(partitions))
    else:
        write_partition(spark, lake, spec, dwd, ds, partitions.get(ds, 0))
    return partitions


# ---- the job ----------------------------------------------------------------------------------------
def run_entity(spark: SparkSession, settings: Settings, spec: EntitySpec, ds: date) -> EntityCounts:
    """ODS day ``ds`` (lookback: the window ending at ``ds``) of ``spec`` → its DWD partitions; returns
    the counts it logged to ``ops.run_log``."""
    started = time.monotonic()
    require_utc(spark)
    lake = Lake(settings.lake_uri)
    days = ods_days(spark, settings, spec, ds)
    window = [days[0] + timedelta(days=n) for n in range((ds - days[0]).days + 1)]
    records = read_ods(spark, settings, spec, ds, days)
    classified = classify(spec, records, ds, days[0]).persist()
    try:
        pday = F.when(F.col("_fate") == PUBLISHED, partition_day(spec)).alias("_pday")
        tallied = classified.groupBy("_fate", "_reason", pday, _starts_record(spec)).count().collect()
        by_fate, reasons, partitions = _tally(tallied)
        if by_fate[REJECTED]:
            _log_reject_examples(spec, classified)
        write_quarantine(spark, lake, spec, classified, ds, by_fate[REJECTED])
        written = _publish(spark, lake, spec, classified, ds, window, partitions)
    finally:
        classified.unpersist()
    counts = EntityCounts(
        entity=spec.entity,
        ds=ds,
        source=spec.source,
        ods_entity=spec.ods_name,
        ods_records=sum(row["count"] for row in tallied if row["_starts_record"]),
        rows_in=sum(by_fate.values()),
        rows_out=by_fate[PUBLISHED],
        duplicates_dropped=by_fate[SUPERSEDED],
        rows_rejected=by_fate[REJECTED],
        rejected_reasons=dict(sorted(reasons.items())),
        seconds=time.monotonic() - started,
        outside_window=by_fate[OUTSIDE_WINDOW],
        ods_partitions=tuple(days),
        partitions=written,
    )
    log_counts(settings, STEP, counts)
    log.info(
        "%s ds=%s: %d ODS records → %d rows; %d duplicates dropped, %d rejected %s; %.1f s",
        spec.entity,
        ds,
        counts.rows_in,
        counts.rows_out,
        counts.duplicates_dropped,
        counts.rows_rejected,
        counts.rejected_reasons,
        counts.seconds,
    )
    return counts


def days_to_load(spec: EntitySpec, counts: EntityCounts) -> list[date]:
    """The DWD partitions a run may have changed, emptied ones included: the lookback window, the
    partitions an entity-specific publisher rewrote, or the run's day."""
    if spec.lookback:
        start = counts.ods_partitions[0] if counts.ods_partitions else counts.ds
        return [start + timedelta(days=n) for n in range((counts.ds - start).days + 1)]
    if spec.publish is not None:
        return sorted(counts.partitions)
    return [counts.ds]


# ---- command line -----------------------------------------------------------------------------------
def main_for(spec: EntitySpec, argv: Sequence[str] | None = None) -> int:
    """``python -m spark_jobs.<entity> --ds D [D ...]``: one Spark application for all requested days."""
    parser = argparse.ArgumentParser(description=f"ODS {spec.source}/{spec.ods_name} → DWD {spec.entity}")
    add_days_argument(parser)
    args = parser.parse_args(argv)
    return run_days(
        f"mercator-dwd-{spec.entity}",
        args.ds,
        lambda spark, settings, ds: run_entity(spark, settings, spec, ds),
    )
