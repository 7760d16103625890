"""Typing an entity job's raw records: typed values, the problem that rejects a record, each record's fate
(dedupe by business key, latest version wins) and the published rows in DWD column order."""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.entity_spec import (
    BIGINT,
    BOOLEAN,
    CURRENCY,
    DATE,
    DOUBLE,
    ELEMENT_INDEX,
    INTEGER,
    STRING,
    TIMESTAMP,
    EntitySpec,
    Field,
)
from spark_jobs.schemas import PARTITION_COLUMN

PUBLISHED, SUPERSEDED, REJECTED = "published", "superseded", "rejected"
OUTSIDE_WINDOW = "outside_window"
MALFORMED = "malformed JSON line"
CURRENCY_PATTERN = r"^[A-Z]{3}$"


def _no_element(spec: EntitySpec) -> tuple[Column, Column]:
    """(the row has no element, why): never true for an entity that does not explode a list."""
    if not spec.explode:
        return F.lit(False), F.lit(None).cast("string")
    reason = F.lit(f"{spec.explode} is missing, empty or not a list")
    return ~F.col("_is_malformed") & F.col(ELEMENT_INDEX).isNull(), reason


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


def partition_day(spec: EntitySpec) -> Column:
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
        day = partition_day(spec)
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
    ds = partition_day(spec) if spec.lookback else F.col("_run_ds")
    return classified.filter(F.col("_fate") == PUBLISHED).select(
        *[F.col(f"_t_{c}").alias(c) for c in spec.columns], ds.alias(PARTITION_COLUMN)
    )
