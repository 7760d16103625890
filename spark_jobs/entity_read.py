"""Reading ODS for an entity job: the days a run reads and their raw records (explicit schema, PII hashed)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType

from ops.settings import Settings
from spark_jobs import pii
from spark_jobs.entity_spec import ELEMENT, ELEMENT_INDEX, EntitySpec, OdsPartitionMissingError
from spark_jobs.lake_io import path_exists
from spark_jobs.schemas import CORRUPT_RECORD
from storage.lake import Lake

log = logging.getLogger(__name__)

ODS_FILE_GLOB = "*.jsonl.gz"


def ods_days(spark: SparkSession, settings: Settings, spec: EntitySpec, ds: date) -> list[date]:
    """The ODS days a run of ``ds`` reads: ``ds`` alone, or for ``lookback`` entities the longest run of
    consecutive landed days ending at ``ds`` (at most lookback + 1): a gap means the
    partitions before it cannot be rebuilt completely, so the window stops there.
    """
    lake = Lake(settings.lake_uri)
    if not path_exists(spark, lake.ods_partition(spec.source, spec.ods_name, ds)):
        raise OdsPartitionMissingError(
            f"{spec.source}/{spec.ods_name}: ODS partition "
            f"{lake.ods_partition(spec.source, spec.ods_name, ds)} has not landed; run the connector first"
        )
    days = [ds]
    lookback = max(settings.dwd_lookback_days, spec.min_lookback_days) if spec.lookback else 0
    for offset in range(1, lookback + 1):
        day = ds - timedelta(days=offset)
        if not path_exists(spark, lake.ods_partition(spec.source, spec.ods_name, day)):
            log.warning(
                "%s/%s: ODS day %s missing; rebuilding %s..%s", spec.source, spec.ods_name, day, days[-1], ds
            )
            break
        days.append(day)
    return sorted(days)


def read_ods(
    spark: SparkSession, settings: Settings, spec: EntitySpec, ds: date, days: Sequence[date] | None = None
) -> DataFrame:
    """Raw ODS records of ``days`` (default: ``ds``; explicit schema), PII already hashed, plus bookkeeping.

    ``_record`` is the record's position in the scan (one gzip file is one task, so it is the line order);
    ``_content_hash`` covers every field, so identical duplicates tie and different versions do not.
    Exploded entities also carry ``_element_index`` (the element's position in its line's list).
    """
    lake = Lake(settings.lake_uri)
    uris = [lake.ods_partition(spec.source, spec.ods_name, day) for day in (days or [ds])]
    for uri in uris:
        if not path_exists(spark, uri):
            raise OdsPartitionMissingError(
                f"{spec.source}/{spec.ods_name}: ODS partition {uri} has not landed; run the connector first"
            )
    raw = (
        spark.read.schema(spec.ods_schema())
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
        .option("pathGlobFilter", ODS_FILE_GLOB)  # _manifest.json is metadata, not data
        .json(uris)
    )
    file_day = F.regexp_extract(F.col("_metadata.file_path"), r"/ds=(\d{4}-\d{2}-\d{2})/", 1)
    ods_ds, record = F.to_date(file_day), F.monotonically_increasing_id()
    hashed_text, extra = [F.coalesce(F.col(CORRUPT_RECORD), F.lit(""))], []
    if spec.explode:  # bookkeep the line first: its elements share its ODS day and record number
        raw = _exploded(raw.select("*", ods_ds.alias("_ods_ds"), record.alias("_record")), spec.explode)
        ods_ds, record = F.col("_ods_ds"), F.col("_record")
        hashed_text.append(F.coalesce(F.col(ELEMENT), F.lit("")))
        extra.append(F.col(ELEMENT_INDEX))
    values = [f.raw() for f in spec.fields]
    bookkept = raw.select(
        *values,
        F.col(CORRUPT_RECORD).isNotNull().alias("_is_malformed"),
        ods_ds.alias("_ods_ds"),
        record.alias("_record"),
        *extra,
        F.xxhash64(*values, *hashed_text).alias("_content_hash"),
    )
    secret = [f for f in spec.fields if f.pii]
    if not secret:
        return bookkept
    keyed = pii.with_pii_key(bookkept, spark, settings.pii_hash_key)
    hashed = {
        f.name: F.when(F.trim(f.name) != "", pii.customer_key_col(F.trim(f.name))).alias(f.name)
        for f in secret
    }
    return keyed.select(*[hashed.get(c, F.col(c)) for c in bookkept.columns])


def _exploded(lines: DataFrame, list_field: str) -> DataFrame:
    """One row per element of ``list_field`` (its JSON text in ``_element``, position in
    ``_element_index``); a line whose list is missing, empty or not a list keeps one row with null
    ``_element_index``, so it is rejected with that reason rather than lost."""
    elements = F.from_json(F.col(list_field), ArrayType(StringType()))
    return lines.select("*", F.posexplode_outer(elements).alias(ELEMENT_INDEX, ELEMENT))
