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
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from ops.settings import Settings
from spark_jobs import pii
from spark_jobs.cli import add_days_argument, run_days
from spark_jobs.lake_io import delete_path, path_exists
from spark_jobs.schemas import CORRUPT_RECORD, PARTITION_COLUMN
from storage.lake import Lake
from storage.loader import record_run
from storage.warehouse import connect

log = logging.getLogger(__name__)

STEP = "spark_dwd"
ODS_FILE_GLOB = "*.jsonl.gz"
PUBLISHED, SUPERSEDED, REJECTED = "published", "superseded", "rejected"
MALFORMED = "malformed JSON line"
CURRENCY_PATTERN = r"^[A-Z]{3}$"

# Kinds a field can be typed to; decimals are written "decimal(p,s)".
STRING, DOUBLE, INTEGER, BIGINT, BOOLEAN, DATE, TIMESTAMP, CURRENCY = (
    "string",
    "double",
    "int",
    "bigint",
    "boolean",
    "date",
    "timestamp",
    "currency",
)


class OdsPartitionMissingError(FileNotFoundError):
    """The run's ODS day has not landed: publishing now would publish nothing as if it were the truth."""


@dataclass(frozen=True)
class Field:
    """One ODS field and the DWD column it becomes.

    ``kind`` is one of the kinds above or ``decimal(p,s)``. ``pii=True`` replaces the value by its keyed
    hash (a 64-hex string) before anything else happens; ``enum`` lists the values a string may take.
    ``path`` reads a value nested in an ODS object (``"price.amount"``: the ``amount`` of the record's
    ``price`` object); ``name`` then only names the raw value (quarantine column, reject reasons).
    """

    name: str
    kind: str = STRING
    required: bool = True
    column: str | None = None  # DWD column name; defaults to ``name``
    enum: tuple[str, ...] | None = None
    pii: bool = False
    path: str | None = None  # dotted path of a nested ODS value; defaults to the top-level ``name``

    @property
    def out(self) -> str:
        return self.column or self.name

    @property
    def ods_field(self) -> str:
        """The top-level ODS field the value is read from."""
        return (self.path or self.name).split(".")[0]

    def raw(self) -> Column:
        """The value's JSON text, from the top-level ODS field (an object is read as its JSON text)."""
        if self.path is None or "." not in self.path:
            return F.col(self.ods_field).alias(self.name)
        inner = self.path.split(".", 1)[1]
        return F.get_json_object(F.col(self.ods_field), f"$.{inner}").alias(self.name)


@dataclass(frozen=True)
class Check:
    """A rule on the typed row; rows where ``predicate`` is false are rejected with ``reason``."""

    reason: str
    predicate: Callable[[], Column]


@dataclass(frozen=True)
class EntitySpec:
    """Everything entity-specific about a flat ODS → DWD job."""

    entity: str  # DWD entity: dwd/<entity>/ds=…, storage/sql/dwd_<entity>.sql
    source: str  # ODS source: ods/<source>/<ods_entity>/ds=…
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # DWD columns identifying one row
    partition_by: str  # DWD date or timestamp column whose UTC date is ds
    checks: tuple[Check, ...] = ()
    ods_entity: str | None = None  # defaults to ``entity``

    @property
    def ods_name(self) -> str:
        return self.ods_entity or self.entity

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.out for f in self.fields)

    def ods_schema(self) -> StructType:
        """Every field as its JSON text (numbers and booleans too): typing is the job's, not the reader's."""
        top = dict.fromkeys(f.ods_field for f in self.fields)
        return StructType(
            [StructField(name, StringType()) for name in top] + [StructField(CORRUPT_RECORD, StringType())]
        )

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.entity}: field names {names} are not unique")
        missing = [c for c in (*self.key, self.partition_by) if c not in self.columns]
        if missing:
            raise ValueError(f"{self.entity}: key/partition columns {missing} are not fields")


@dataclass(frozen=True)
class EntityCounts:
    """What one run read, dropped and wrote; ``rows_in = rows_out + duplicates_dropped + rows_rejected``."""

    entity: str
    ds: date
    rows_in: int
    rows_out: int
    duplicates_dropped: int
    rows_rejected: int
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def reconciles(self) -> bool:
        return self.rows_in == self.rows_out + self.duplicates_dropped + self.rows_rejected

    def details(self) -> dict[str, Any]:
        return {
            "duplicates_dropped": self.duplicates_dropped,
            "rejected_reasons": self.rejected_reasons,
            "reconciles": self.reconciles,
            "seconds": round(self.seconds, 3),
        }


# ---- paths ------------------------------------------------------------------------------------------
def quarantine_path(lake: Lake, spec: EntitySpec, ds: date) -> str:
    """Rejects of the DWD job, next to (not inside) the connector's own quarantine of the same entity."""
    return lake.ods_quarantine(spec.source, f"dwd_{spec.entity}", ds)


# ---- reading and typing -----------------------------------------------------------------------------
def read_ods(spark: SparkSession, settings: Settings, spec: EntitySpec, ds: date) -> DataFrame:
    """Raw ODS records of ``ds`` (explicit schema), PII already hashed, plus bookkeeping columns.

    ``_record`` is the record's position in the scan (one gzip file is one task, so it is the line order);
    ``_content_hash`` covers every field, so identical duplicates tie and different versions do not.
    """
    lake = Lake(settings.lake_uri)
    uri = lake.ods_partition(spec.source, spec.ods_name, ds)
    if not path_exists(spark, uri):
        raise OdsPartitionMissingError(
            f"{spec.source}/{spec.ods_name}: ODS partition {uri} has not landed; run the connector first"
        )
    raw = (
        spark.read.schema(spec.ods_schema())
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
        .option("pathGlobFilter", ODS_FILE_GLOB)  # _manifest.json is metadata, not data
        .json(uri)
    )
    file_day = F.regexp_extract(F.col("_metadata.file_path"), r"/ds=(\d{4}-\d{2}-\d{2})/", 1)
    values = [f.raw() for f in spec.fields]
    bookkept = raw.select(
        *values,
        F.col(CORRUPT_RECORD).isNotNull().alias("_is_malformed"),
        F.to_date(file_day).alias("_ods_ds"),
        F.monotonically_increasing_id().alias("_record"),
        F.xxhash64(*values, F.coalesce(F.col(CORRUPT_RECORD), F.lit(""))).alias("_content_hash"),
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


def _decimal_digits(kind: str) -> tuple[int, int]:
    precision, scale = kind[len("decimal(") : -1].split(",")
    return int(precision), int(scale)


def typed_value(f: Field) -> Column:
    """The DWD value of a field, or null when absent or when it cannot be typed exactly."""
    text = F.when(F.trim(f.name) != "", F.trim(f.name))
    if f.pii:
        return text
    if f.enum is not None:
        return F.lower(text)
    if f.kind == STRING:
        return text
    if f.kind == CURRENCY:
        return F.upper(text)
    if f.kind == BOOLEAN:
        lowered = F.lower(text)
        return F.when(lowered.isin("true", "false"), lowered == "true")
    if f.kind == DOUBLE:
        number = text.try_cast("double")
        return F.when(~F.isnan(number) & (F.abs(number) != F.lit(float("inf"))), number)
    if f.kind in (INTEGER, BIGINT, DATE, TIMESTAMP):
        return text.try_cast(f.kind)
    if f.kind.startswith("decimal("):
        value = text.try_cast(f.kind)
        exact = text.try_cast("decimal(38,18)")
        return F.when(value == exact, value)  # a value needing more digits is a problem, not a rounding
    raise ValueError(f"field {f.name}: unknown kind {f.kind!r}")


def _problem(spec: EntitySpec) -> Column:
    """Why a typed row cannot be published (null when it can): the first failing field or check."""
    problem = F.when(F.col("_is_malformed"), F.lit(MALFORMED))
    for f in spec.fields:
        value, raw = F.col(f"_t_{f.out}"), F.col(f.name)
        if f.required:
            problem = problem.when(raw.isNull() | (F.trim(raw) == ""), F.lit(f"missing {f.name}"))
        problem = problem.when(
            raw.isNotNull() & (F.trim(raw) != "") & value.isNull(), F.lit(f"{f.name} is not {f.kind}")
        )
        if f.kind == CURRENCY:
            problem = problem.when(~value.rlike(CURRENCY_PATTERN), F.lit(f"{f.name} is not a currency code"))
        if f.enum is not None:
            problem = problem.when(~value.isin(*f.enum), F.lit(f"{f.name} not one of {', '.join(f.enum)}"))
    for check in spec.checks:
        problem = problem.when(~F.coalesce(check.predicate(), F.lit(False)), F.lit(check.reason))
    return problem.when(
        F.to_date(F.col(f"_t_{spec.partition_by}")) != F.col("_run_ds"),
        F.lit(f"{spec.partition_by} is not on the run's ds"),
    )


def classify(spec: EntitySpec, records: DataFrame, ds: date) -> DataFrame:
    """Every record typed, with its fate (published / superseded / rejected) and, if rejected, why."""
    typed = records.select(
        "*", *[typed_value(f).alias(f"_t_{f.out}") for f in spec.fields], F.lit(ds).alias("_run_ds")
    )
    key = [F.col(f"_t_{c}") for c in spec.key]
    no_key = F.col("_is_malformed")
    for column in key:
        no_key = no_key | column.isNull()
    latest_first = Window.partitionBy(*key).orderBy(
        F.col("_ods_ds").desc(), F.col("_record").desc(), F.col("_content_hash").desc()
    )
    problem = _problem(spec)
    fate = (
        F.when(no_key, REJECTED)
        .when(F.col("_version") > 1, SUPERSEDED)
        .when(problem.isNotNull(), REJECTED)
        .otherwise(PUBLISHED)
    )
    no_key_reason = F.coalesce(
        F.when(F.col("_is_malformed"), F.lit(MALFORMED)),
        *[F.when(F.col(f"_t_{c}").isNull(), F.lit(f"missing or untyped key {c}")) for c in spec.key],
    )
    return (
        typed.withColumn("_version", F.row_number().over(latest_first))
        .withColumn("_fate", fate)
        .withColumn(
            "_reason",
            F.when(no_key, no_key_reason).when(F.col("_fate") == REJECTED, problem),
        )
    )


def to_dwd(spec: EntitySpec, classified: DataFrame) -> DataFrame:
    """Published rows in the DDL's column order, plus ``ds``."""
    return classified.filter(F.col("_fate") == PUBLISHED).select(
        *[F.col(f"_t_{c}").alias(c) for c in spec.columns], F.col("_run_ds").alias(PARTITION_COLUMN)
    )


# ---- writing ----------------------------------------------------------------------------------------
def _write_quarantine(
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


def _require_utc(spark: SparkSession) -> None:
    tz = spark.conf.get("spark.sql.session.timeZone")
    if tz not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
        raise RuntimeError(f"session time zone is {tz!r}; DWD dates and timestamps are defined in UTC")


# ---- the job ----------------------------------------------------------------------------------------
def run_entity(spark: SparkSession, settings: Settings, spec: EntitySpec, ds: date) -> EntityCounts:
    """ODS day ``ds`` of ``spec`` → DWD partition ``ds``; returns the counts it logged to ``ops.run_log``."""
    started = time.monotonic()
    _require_utc(spark)
    lake = Lake(settings.lake_uri)
    classified = classify(spec, read_ods(spark, settings, spec, ds), ds).persist()
    try:
        summary = classified.groupBy("_fate", "_reason").count().collect()
        by_fate: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        for row in summary:
            by_fate[row["_fate"]] += row["count"]
            if row["_fate"] == REJECTED:
                reasons[row["_reason"]] += row["count"]
        _write_quarantine(spark, lake, spec, classified, ds, by_fate[REJECTED])
        write_partition(spark, lake, spec, to_dwd(spec, classified), ds, by_fate[PUBLISHED])
    finally:
        classified.unpersist()
    counts = EntityCounts(
        entity=spec.entity,
        ds=ds,
        rows_in=sum(by_fate.values()),
        rows_out=by_fate[PUBLISHED],
        duplicates_dropped=by_fate[SUPERSEDED],
        rows_rejected=by_fate[REJECTED],
        rejected_reasons=dict(sorted(reasons.items())),
        seconds=time.monotonic() - started,
    )
    with connect(settings, autocommit=True) as conn, conn.transaction():
        record_run(
            conn,
            step=STEP,
            entity=spec.entity,
            ds=ds,
            rows_in=counts.rows_in,
            rows_out=counts.rows_out,
            rows_rejected=counts.rows_rejected,
            details=counts.details(),
        )
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
