"""Salting for skewed keys: the largest sellers and ASINs would otherwise land in one shuffle task each.

A join on a hot key sends all of its rows to one task, so one core works while the others wait. Salting
spreads a hot key's rows over ``buckets`` sub-keys: on the large side each row gets a salt derived from
its own content (deterministic, so a retried task reproduces the same salts); on the small side each
row of a hot key is copied once per salt. Only the hot keys are salted, so the copies stay few.

AQE's skew-join handling (``spark.sql.adaptive.skewJoin.enabled``) does the same for sort-merge joins
without code; salting still helps where AQE cannot split (aggregations of one huge group, joins that
AQE plans differently). ``tests/bench/test_bench_spark.py`` measures both on a skewed ``medium`` set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

SALT = "_salt"
# Partial aggregate → how partials combine. Only functions whose partials combine exactly are allowed.
_COMBINE = {"sum": F.sum, "count": F.sum, "min": F.min, "max": F.max}
_PARTIAL = {"sum": F.sum, "count": F.count, "min": F.min, "max": F.max}


def hot_keys(
    df: DataFrame, keys: Sequence[str], *, min_share: float, limit: int = 100, fraction: float | None = None
) -> list[tuple[Any, ...]]:
    """Keys holding at least ``min_share`` of the rows (at most ``limit``, largest first): salt these.

    ``fraction`` estimates the shares from a (seeded) sample: a hot key is hot in any sample.
    """
    sample = df.sample(fraction=fraction, seed=0) if fraction else df
    counts = sample.groupBy(*keys).count()
    total = counts.agg(F.sum("count")).first()[0] or 0
    top = counts.orderBy(F.desc("count"), *keys).limit(limit).collect()
    return [tuple(row[k] for k in keys) for row in top if row["count"] >= min_share * total]


def _is_hot(keys: Sequence[str], hot: Sequence[tuple[Any, ...]] | None) -> Column:
    """True for rows whose key is in ``hot`` (every row when ``hot`` is None)."""
    if hot is None:
        return F.lit(True)
    if not hot:
        return F.lit(False)
    matches = [
        reduce(lambda a, b: a & b, [F.col(k) == F.lit(v) for k, v in zip(keys, key, strict=True)])
        for key in hot
    ]
    return reduce(lambda a, b: a | b, matches)


def _salt(df: DataFrame, buckets: int, salt_by: Sequence[str] | None) -> Column:
    """A salt in [0, buckets) from the row's own values: the same on every (re)computation."""
    return F.pmod(F.xxhash64(*(salt_by or df.columns)), F.lit(buckets)).cast("int")


def salted_join(
    large: DataFrame,
    small: DataFrame,
    on: Sequence[str],
    buckets: int,
    *,
    hot: Sequence[tuple[Any, ...]] | None = None,
    how: str = "inner",
    salt_by: Sequence[str] | None = None,
) -> DataFrame:
    """``large.join(small, on, how)`` with the hot keys (all keys when ``hot`` is None) salted.

    ``how`` must keep the small side's rows from being counted once per copy: inner, left, left_semi or
    left_anti. The result has the same rows as the plain join (in no particular order).
    """
    if how not in ("inner", "left", "left_outer", "left_semi", "left_anti"):
        raise ValueError(f"salted_join cannot do a {how!r} join: the small side's copies would show")
    if buckets < 1:
        raise ValueError("buckets must be >= 1")
    is_hot = _is_hot(on, hot)
    salted_large = large.withColumn(SALT, F.when(is_hot, _salt(large, buckets, salt_by)).otherwise(0))
    copies = F.when(is_hot, F.sequence(F.lit(0), F.lit(buckets - 1))).otherwise(F.array(F.lit(0)))
    salted_small = small.withColumn(SALT, F.explode(copies))
    return salted_large.join(salted_small, on=[*on, SALT], how=how).drop(SALT)


def salted_aggregate(
    df: DataFrame,
    keys: Sequence[str],
    aggregations: Mapping[str, tuple[str, str]],
    buckets: int,
    *,
    salt_by: Sequence[str] | None = None,
) -> DataFrame:
    """``df.groupBy(keys)`` in two phases: partials per (keys, salt), then combined per keys.

    ``aggregations`` maps an output name to (function, column) with function in sum/count/min/max; the
    result has the plain aggregation's column types (read from the plan, no Spark job).
    """
    unknown = sorted({fn for fn, _ in aggregations.values()} - set(_PARTIAL))
    if unknown:
        raise ValueError(f"salted_aggregate cannot combine {unknown}; use one of {sorted(_PARTIAL)}")
    plain_types = (
        df.groupBy(*keys)
        .agg(*[_PARTIAL[fn](column).alias(name) for name, (fn, column) in aggregations.items()])
        .schema
    )
    partial = (
        df.withColumn(SALT, _salt(df, buckets, salt_by))
        .groupBy(*keys, SALT)
        .agg(*[_PARTIAL[fn](column).alias(name) for name, (fn, column) in aggregations.items()])
    )
    return partial.groupBy(*keys).agg(
        *[
            _COMBINE[fn](name).cast(plain_types[name].dataType).alias(name)
            for name, (fn, _) in aggregations.items()
        ]
    )
