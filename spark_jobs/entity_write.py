"""Writing an entity job's output: the quarantine of its rejects and the DWD partitions it replaces."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.entity_spec import ELEMENT_INDEX, EntitySpec
from spark_jobs.entity_typing import REJECTED
from spark_jobs.lake_io import delete_path
from spark_jobs.schemas import PARTITION_COLUMN
from storage.lake import Lake

log = logging.getLogger(__name__)


def quarantine_path(lake: Lake, spec: EntitySpec, ds: date) -> str:
    """Rejects of the DWD job, next to (not inside) the connector's own quarantine of the same entity."""
    return lake.ods_quarantine(spec.source, f"dwd_{spec.entity}", ds)


def write_quarantine(
    spark: SparkSession, lake: Lake, spec: EntitySpec, classified: DataFrame, ds: date, n: int
) -> None:
    """Rejected records (raw field text, PII already hashed) with their reason; removed when none."""
    target = quarantine_path(lake, spec, ds)
    if n == 0:
        delete_path(spark, target)  # a rerun after a fix must not leave the old rejects behind
        return
    (
        classified.filter(F.col("_fate") == REJECTED)
        .select(
            F.date_format("_ods_ds", "yyyy-MM-dd").alias("ods_ds"),
            F.col("_record").alias("record"),
            *([F.col(ELEMENT_INDEX).alias("element")] if spec.explode else []),
            "_reason",
            *[f.name for f in spec.fields],
            F.lit(ds.isoformat()).alias("run_ds"),
        )
        .withColumnRenamed("_reason", "reason")
        .orderBy("ods_ds", "record")
        .coalesce(1)
        .write.mode("overwrite")
        .option("ignoreNullFields", "false")
        .json(target, compression="gzip")
    )
    log.warning("%s ds=%s: %d records quarantined to %s", spec.entity, ds, n, target)


def write_partition(
    spark: SparkSession, lake: Lake, spec: EntitySpec, dwd: DataFrame, ds: date, rows: int
) -> None:
    """Replace exactly the partition ``ds``: one file, sorted by key; no rows → no partition."""
    if rows == 0:
        delete_path(spark, lake.dwd_partition(spec.entity, ds))
        return
    (
        dwd.repartition(1)
        .sortWithinPartitions(PARTITION_COLUMN, *spec.key)  # ds first, or the writer re-sorts by ds alone
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(PARTITION_COLUMN)
        .parquet(lake.dwd_table(spec.entity))
    )


def write_window(
    spark: SparkSession,
    lake: Lake,
    spec: EntitySpec,
    dwd: DataFrame,
    window: Sequence[date],
    written: set[date],
) -> None:
    """Replace the partitions ``written`` (one file each, sorted by key) and remove the window's other days.

    A window day left without rows (every record of it moved or was rejected) must not keep old rows.
    """
    if written:
        (
            dwd.repartition(1)
            .sortWithinPartitions(PARTITION_COLUMN, *spec.key)
            .write.mode("overwrite")
            .option("partitionOverwriteMode", "dynamic")
            .partitionBy(PARTITION_COLUMN)
            .parquet(lake.dwd_table(spec.entity))
        )
    for day in window:
        if day not in written and delete_path(spark, lake.dwd_partition(spec.entity, day)):
            log.warning("%s: partition %s has no rows after this run; removed it", spec.entity, day)
