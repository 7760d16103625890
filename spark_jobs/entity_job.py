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
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

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
OUTSIDE_WINDOW = "outside_window"
MAX_EXAMPLES = 5
MALFORMED = "malformed JSON line"
ELEMENT, ELEMENT_INDEX = "_element", "_element_index"  # exploded entities: an element's JSON text, position
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
    ``price`` object) or, for an exploded list, in its element (``"items[].sku"``); ``name`` then only
    names the raw value (quarantine column, reject reasons). ``keep=False``: typed (for derived columns
    and checks, as ``_t_<column>``) but not a DWD column.
    """

    name: str
    kind: str = STRING
    required: bool = True
    column: str | None = None  # DWD column name; defaults to ``name``
    enum: tuple[str, ...] | None = None
    pii: bool = False
    path: str | None = None  # dotted path of a nested ODS value; defaults to the top-level ``name``
    keep: bool = True  # False: an input of derived columns and checks only, not written to DWD

    @property
    def out(self) -> str:
        return self.column or self.name

    @property
    def ods_field(self) -> str:
        """The top-level ODS field the value is read from (for an element field: the exploded list)."""
        return (self.path or self.name).split(".")[0].removesuffix("[]")

    @property
    def in_element(self) -> bool:
        """Read from each element of the exploded list (``path`` ``"<list>[].<name>"``)."""
        return self.path is not None and "[]." in self.path

    def raw(self) -> Column:
        """The value's JSON text, from the top-level ODS field (an object is read as its JSON text)."""
        if self.in_element:
            inner = (self.path or "").split("[].", 1)[1]
            return F.get_json_object(F.col(ELEMENT), f"$.{inner}").alias(self.name)
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
class Derived:
    """A DWD column computed from the typed fields (``F.col("_t_<column>")``), e.g. a unified code.

    When ``required`` and the value is null the record is rejected with ``reason`` (a text column, so it
    can name the unmapped value); a derived value is never silently null.
    """

    column: str
    expr: Callable[[], Column]
    reason: Callable[[], Column]
    required: bool = True


Publisher = Callable[[SparkSession, Lake, "EntitySpec", DataFrame, date], dict[date, int]]


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
    derived: tuple[Derived, ...] = ()
    lookback: bool = False  # read ODS [ds - lookback days, ds], rebuild that window
    min_lookback_days: int = 0  # lookback days = max(settings.dwd_lookback_days, this)
    version_by: str | None = None  # DWD column ordering versions of one key (latest wins) before ODS day
    publish: Publisher | None = None  # entity-specific writer; default: replace the partitions produced
    explode: str | None = None  # top-level ODS list field: one row per element ("<list>[].x" field paths)

    @property
    def ods_name(self) -> str:
        return self.ods_entity or self.entity

    @property
    def columns(self) -> tuple[str, ...]:
        """The DWD columns, in order: the kept fields, then the derived columns."""
        return tuple(f.out for f in self.fields if f.keep) + tuple(d.column for d in self.derived)

    def ods_schema(self) -> StructType:
        """Every field as its JSON text (numbers and booleans too): typing is the job's, not the reader's."""
        top = dict.fromkeys([f.ods_field for f in self.fields] + ([self.explode] if self.explode else []))
        return StructType(
            [StructField(name, StringType()) for name in top] + [StructField(CORRUPT_RECORD, StringType())]
        )

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.entity}: field names {names} are not unique")
        versioned = (self.version_by,) if self.version_by else ()
        missing = [c for c in (*self.key, self.partition_by, *versioned) if c not in self.columns]
        if missing:
            raise ValueError(f"{self.entity}: key/partition columns {missing} are not fields")
        stray = [f.name for f in self.fields if f.in_element and f.ods_field != self.explode]
        if stray:
            raise ValueError(f"{self.entity}: fields {stray} read list elements but explode={self.explode!r}")


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
    outside_window: int = 0  # lookback entities: latest versions of records older than the window
    ods_partitions: tuple[date, ...] = ()
    partitions: dict[date, int] = field(default_factory=dict)  # DWD partitions written → rows
    source: str = ""
    ods_entity: str = ""
    ods_records: int = 0  # ODS records read: rows_in counts list elements for exploded entities

    @property
    def reconciles(self) -> bool:
        return self.rows_in == (
            self.rows_out + self.duplicates_dropped + self.rows_rejected + self.outside_window
        )

    def details(self) -> dict[str, Any]:
        """The run-log details ``ads_reconciliation`` checks: which ODS days and records the run read
        and which DWD partitions it wrote (a window day missing from ``partitions`` was left empty)."""
        window_start = self.ods_partitions[0] if self.ods_partitions else self.ds
        return {
            "source": self.source,
            "ods_entity": self.ods_entity,
            "ods_records": self.ods_records,
            "ods_partitions": [d.isoformat() for d in self.ods_partitions],
            "window_start": window_start.isoformat(),
            "partitions": {d.isoformat(): n for d, n in sorted(self.partitions.items())},
            "duplicates_dropped": self.duplicates_dropped,
            "outside_window": self.outside_window,
            "rejected_reasons": self.rejected_reasons,
            "reconciles": self.reconciles,
            "seconds": round(self.seconds, 3),
        }


# ---- paths ------------------------------------------------------------------------------------------
def quarantine_path(lake: Lake, spec: EntitySpec, ds: date) -> str:
    """Rejects of the DWD job, next to (not inside) the connector's own quarantine of the same entity."""
    return lake.ods_quarantine(spec.source, f"dwd_{spec.entity}", ds)


# ---- reading and typing -----------------------------------------------------------------------------
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


def _no_element(spec: EntitySpec) -> tuple[Column, Column]:
    """(the row has no element, why): never true for an entity that does not explode a list."""
    if not spec.explode:
        return F.lit(False), F.lit(None).cast("string")
    reason = F.lit(f"{spec.explode} is missing, empty or not a list")
    return ~F.col("_is_malformed") & F.col(ELEMENT_INDEX).isNull(), reason


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
    no_element, why = _no_element(spec)
    problem = F.when(F.col("_is_malformed"), F.lit(MALFORMED)).when(no_element, why)
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
    for d in spec.derived:
        if d.required:
            problem = problem.when(F.col(f"_t_{d.column}").isNull(), d.reason())
    for check in spec.checks:
        problem = problem.when(~F.coalesce(check.predicate(), F.lit(False)), F.lit(check.reason))
    if spec.lookback:  # a day outside the window is not a problem of the record (see classify)
        return problem
    return problem.when(
        F.to_date(F.col(f"_t_{spec.partition_by}")) != F.col("_run_ds"),
        F.lit(f"{spec.partition_by} is not on the run's ds"),
    )


def _partition_day(spec: EntitySpec) -> Column:
    """The DWD partition a typed row belongs to: the UTC date of ``partition_by``."""
    return F.to_date(F.col(f"_t_{spec.partition_by}"))


def classify(spec: EntitySpec, records: DataFrame, ds: date, window_start: date | None = None) -> DataFrame:
    """Every record typed, with its fate (published / superseded / outside_window / rejected) and why.

    ``window_start`` (lookback entities): the latest version of a record whose partition day is not in
    ``[window_start, ds]`` is ``outside_window``: its partition is not rebuilt by this run.
    """
    typed = records.select(
        "*", *[typed_value(f).alias(f"_t_{f.out}") for f in spec.fields], F.lit(ds).alias("_run_ds")
    )
    if spec.derived:
        typed = typed.select("*", *[d.expr().alias(f"_t_{d.column}") for d in spec.derived])
    key = [F.col(f"_t_{c}") for c in spec.key]
    no_element, why = _no_element(spec)
    no_key = F.col("_is_malformed") | no_element
    for column in key:
        no_key = no_key | column.isNull()
    newest = [F.col(f"_t_{spec.version_by}").desc_nulls_last()] if spec.version_by else []
    element = [F.col(ELEMENT_INDEX).desc()] if spec.explode else []
    latest_first = Window.partitionBy(*key).orderBy(
        *newest, F.col("_ods_ds").desc(), F.col("_record").desc(), *element, F.col("_content_hash").desc()
    )
    problem = _problem(spec)
    fate = F.when(no_key, REJECTED).when(F.col("_version") > 1, SUPERSEDED)
    if spec.lookback:
        day = _partition_day(spec)
        outside = day.isNotNull() & ~day.between(F.lit(window_start or ds), F.lit(ds))
        fate = fate.when(~F.col("_is_malformed") & outside, OUTSIDE_WINDOW)
    fate = fate.when(problem.isNotNull(), REJECTED).otherwise(PUBLISHED)
    no_key_reason = F.coalesce(
        F.when(F.col("_is_malformed"), F.lit(MALFORMED)),
        F.when(no_element, why),
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
    """Published rows in the DDL's column order, plus ``ds`` (the run's day, or each row's own day for
    lookback entities)."""
    ds = _partition_day(spec) if spec.lookback else F.col("_run_ds")
    return classified.filter(F.col("_fate") == PUBLISHED).select(
        *[F.col(f"_t_{c}").alias(c) for c in spec.columns], ds.alias(PARTITION_COLUMN)
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


def _require_utc(spark: SparkSession) -> None:
    tz = spark.conf.get("spark.sql.session.timeZone")
    if tz not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
        raise RuntimeError(f"session time zone is {tz!r}; DWD dates and timestamps are defined in UTC")


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
    _require_utc(spark)
    lake = Lake(settings.lake_uri)
    days = ods_days(spark, settings, spec, ds)
    window = [days[0] + timedelta(days=n) for n in range((ds - days[0]).days + 1)]
    records = read_ods(spark, settings, spec, ds, days)
    classified = classify(spec, records, ds, days[0]).persist()
    try:
        pday = F.when(F.col("_fate") == PUBLISHED, _partition_day(spec)).alias("_pday")
        tallied = classified.groupBy("_fate", "_reason", pday, _starts_record(spec)).count().collect()
        by_fate, reasons, partitions = _tally(tallied)
        if by_fate[REJECTED]:
            _log_reject_examples(spec, classified)
        _write_quarantine(spark, lake, spec, classified, ds, by_fate[REJECTED])
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
