"""ADS checkpoint: each mart against its own previous day (row count, drift of key metrics, freshness).

A mart is rebuilt by dbt every day, so "yesterday" is not in the mart any more: every run records the
mart's profile in ``ops.quality_profile`` (row count; per key metric its mean, median, standard deviation
and a decile histogram), and the next day's run turns the latest passing profile into GX checks:

- row count within ``-max_drop`` / ``+max_growth`` of it;
- each metric's mean and median within ``k`` standard deviations of yesterday's;
- each metric's shape: today's values binned at yesterday's deciles (open-ended outer bins, so values
  outside yesterday's range count) must stay within ``max_kl`` of yesterday's bin shares by GX's own
  ``ExpectColumnKLDivergenceToBeLessThan``. Mean and median miss a change of shape (a metric whose mass
  splits into two humps around the same centre); a histogram does not.

The first run of a mart has no baseline: it checks freshness and "not empty", and records its profile. A
baseline recorded before histograms existed (or with fewer than ``min_rows`` values) gates by mean and
median only, and says so in the log.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from ops.quality.docs import write_page
from ops.quality.engine import (
    Check,
    Failure,
    PartitionResult,
    Suite,
    SuiteRunner,
    ValidationSummary,
    failures,
    raise_if_failed,
)
from ops.settings import Settings
from storage.warehouse import connect

log = logging.getLogger(__name__)

LAYER = "ADS"
DAYS_BEHIND = "_days_behind"
BASELINE_LOOKBACK_DAYS = 7  # a baseline older than a week says little about "yesterday"
DECILES = tuple(i / 10 for i in range(1, 10))  # nine cut points: ten bins of ~10% of the values each
# GX's share for bins yesterday left empty (below a tied minimum, between tied edges): without it one value
# there makes the KL divergence infinite. Where there is such a bin, a same-shaped day pays -ln(0.99) ≈ 0.01.
EMPTY_BIN_HOLDOUT = 0.01

PROFILE_DDL = """
create table if not exists ops.quality_profile (
    layer       text        not null,
    name        text        not null,
    ds          date        not null,
    row_count   bigint      not null,
    metrics     jsonb       not null,
    success     boolean     not null,
    checked_at  timestamptz not null default now(),
    primary key (layer, name, ds)
)
"""


@dataclass(frozen=True)
class Drift:
    """A key metric held to yesterday's: mean and median within ``k`` of its sds, shape within ``max_kl``.

    ``min_band`` (a share of yesterday's value) keeps a near-constant metric (sd ≈ 0) from failing on
    rounding noise. ``max_kl`` bounds KL(today ‖ yesterday) over yesterday's decile bins. PSI, the usual
    credit-risk yardstick, is the same divergence taken both ways, about twice this one for moderate
    shifts, so 0.125 is PSI's customary "significant shift" line of 0.25. A day drawn from yesterday's own
    distribution scores about 9/n from sampling noise alone (n values a day, 9 degrees of freedom): 0.03
    at 300 values and under 0.1 on 999 days in 1000, but 0.09 at 100, where a real change would drown.
    Hence ``min_rows``: a baseline with fewer values gets no shape check.
    """

    column: str
    k: float = 1.0
    min_band: float = 0.05
    max_kl: float = 0.125
    min_rows: int = 300


@dataclass(frozen=True)
class MartCheck:
    """How one mart is gated; ``fresh_column`` (a date) must reach the run's ds."""

    mart: str  # schema-qualified, e.g. ads.ads_customer_value
    drift: tuple[Drift, ...]
    fresh_column: str | None = None
    max_drop: float = 0.2
    max_growth: float = 1.0


MARTS: tuple[MartCheck, ...] = (
    MartCheck(
        "ads.ads_marketplace_sales_trend",
        drift=(Drift("gmv"), Drift("orders"), Drift("aov")),
        fresh_column="ds",
    ),
    MartCheck("ads.ads_customer_value", drift=(Drift("gmv"), Drift("orders")), fresh_column="as_of_ds"),
    MartCheck("ads.ads_cohort_retention", drift=(Drift("retention_rate"), Drift("cohort_size"))),
    MartCheck("ads.ads_channel_kpis", drift=(Drift("gmv"), Drift("aov"))),
    # Built from the non-order sources, which may have nothing for a day (no campaign ran, no parcel
    # moved): an absent day is not stale data, so these have no freshness rule.
    MartCheck("ads.ads_shop_sps_risk", drift=(Drift("sps_score"),)),
    MartCheck("ads.ads_ad_circuit_breaker", drift=(Drift("spend"), Drift("roas"))),
    MartCheck("ads.ads_sku_alerts", drift=(Drift("gmv"), Drift("return_rate"))),
)


@dataclass(frozen=True)
class Profile:
    ds: date
    row_count: int
    metrics: dict[str, dict[str, Any]]  # column -> mean, median, std, histogram (absent in old rows)


def _stat(value: Any) -> float | None:
    """A finite float or None (an all-null metric, or an infinite ratio, gives no usable baseline)."""
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


def _bins(edges: Sequence[float]) -> list[float]:
    """Yesterday's edges with open outer bins: np.histogram (GX's pandas histogram too) counts [a, b)."""
    return [-math.inf, *edges, math.inf]


def histogram_of(values: pd.Series) -> dict[str, Any] | None:
    """The day's decile edges and each bin's share of its non-null values; None if it has none.

    Edges are deduplicated, so a constant or few-valued metric gets one bin per value it takes (a constant
    gets ``[c]``: nothing below, everything from ``c`` up). Edges come from finite values only (jsonb has
    no infinity); shares count every non-null value, as GX will count today's.
    """
    present = values.dropna().to_numpy(dtype=float)
    finite = present[np.isfinite(present)]
    if finite.size == 0:
        return None
    edges = np.unique(np.quantile(finite, DECILES)).tolist()
    counts, _ = np.histogram(present, _bins(edges))
    return {"edges": edges, "weights": (counts / present.size).tolist(), "n": int(present.size)}


def profile_of(frame: pd.DataFrame, check: MartCheck, ds: date) -> Profile:
    """Today's profile, computed the same way tomorrow's bounds will read it."""
    metrics = {
        d.column: {
            "mean": _stat(frame[d.column].mean()),
            "median": _stat(frame[d.column].median()),
            "std": _stat(frame[d.column].std()),
            "histogram": histogram_of(frame[d.column]),
        }
        for d in check.drift
    }
    return Profile(ds, len(frame), metrics)


def _row_count_check(check: MartCheck, base: Profile | None) -> Check:
    if base is None:
        return Check("ExpectTableRowCountToBeBetween", {"min_value": 1}, "row count > 0 (no baseline yet)")
    low = math.floor(base.row_count * (1 - check.max_drop))
    high = math.ceil(base.row_count * (1 + check.max_growth))
    label = (
        f"row count within -{check.max_drop:.0%}/+{check.max_growth:.0%} "
        f"of {base.ds.isoformat()} ({base.row_count} rows)"
    )
    return Check("ExpectTableRowCountToBeBetween", {"min_value": max(low, 1), "max_value": high}, label)


def _drift_checks(drift: Drift, base: Profile) -> list[Check]:
    stats = base.metrics.get(drift.column) or {}
    std = stats.get("std") or 0.0
    checks = []
    for stat, expectation in (
        ("mean", "ExpectColumnMeanToBeBetween"),
        ("median", "ExpectColumnMedianToBeBetween"),
    ):
        center = stats.get(stat)
        if center is None:  # yesterday had no values: nothing to drift from
            continue
        band = max(drift.k * std, drift.min_band * abs(center), 1e-9)
        label = (
            f"{stat} {drift.column} within {drift.k:g} sd of {base.ds.isoformat()} "
            f"({stat} {center:.6g}, sd {std:.6g})"
        )
        bounds = {"column": drift.column, "min_value": center - band, "max_value": center + band}
        checks.append(Check(expectation, bounds, label))
    return checks


def _shape_check(mart: str, drift: Drift, base: Profile) -> Check | None:
    """Today's values over yesterday's decile bins by GX's KL divergence; None without a usable histogram.

    KL(today ‖ yesterday) grows when today's mass piles into bins yesterday filled thinly, which is what a
    split into two humps, or values beyond yesterday's range, do even when mean and median hold.
    """
    stats = base.metrics.get(drift.column) or {}
    histogram = stats.get("histogram")
    if "histogram" not in stats:
        log.info(
            "%s: baseline %s has no histogram of %s (profile recorded before histograms): "
            "mean and median only",
            mart,
            base.ds,
            drift.column,
        )
        return None
    if histogram is None:  # yesterday had no values: nothing to drift from
        return None
    if histogram["n"] < drift.min_rows:
        log.info(
            "%s: baseline %s has %d values of %s (< %d): too few for a shape check",
            mart,
            base.ds,
            histogram["n"],
            drift.column,
            drift.min_rows,
        )
        return None
    partition = {"bins": _bins(histogram["edges"]), "weights": histogram["weights"]}
    label = (
        f"shape of {drift.column} vs {base.ds.isoformat()} "
        f"({len(histogram['weights'])} decile bins, KL divergence <= {drift.max_kl:g})"
    )
    kwargs = {
        "column": drift.column,
        "partition_object": partition,
        "threshold": drift.max_kl,
        "internal_weight_holdout": EMPTY_BIN_HOLDOUT,
    }
    return Check("ExpectColumnKLDivergenceToBeLessThan", kwargs, label)


def mart_suite(check: MartCheck, ds: date, base: Profile | None) -> Suite:
    """The day's suite: bounds come from the baseline profile, so the suite is rebuilt every run."""
    checks = [_row_count_check(check, base)]
    if check.fresh_column:
        checks.append(
            Check(
                "ExpectColumnMinToBeBetween",
                {"column": DAYS_BEHIND, "max_value": 0},
                f"max({check.fresh_column}) reaches {ds.isoformat()} (days behind <= 0)",
            )
        )
    if base is not None:
        for drift in check.drift:
            checks.extend(_drift_checks(drift, base))
            shape = _shape_check(check.mart, drift, base)
            if shape is not None:
                checks.append(shape)
    return Suite(checks=tuple(checks))


# ---- warehouse side ---------------------------------------------------------------------------------
def _relation(mart: str) -> sql.Composable:
    return sql.SQL(".").join(sql.Identifier(part) for part in mart.split("."))


def read_mart(conn: psycopg.Connection, check: MartCheck, ds: date) -> pd.DataFrame | None:
    """The metric columns as floats (GX means need numbers, not Decimals), or None if the mart is absent."""
    if conn.execute("select to_regclass(%s)", (check.mart,)).fetchone()[0] is None:
        return None
    columns = [
        sql.SQL("{}::float8 as {}").format(sql.Identifier(d.column), sql.Identifier(d.column))
        for d in check.drift
    ]
    if check.fresh_column:
        columns.append(
            sql.SQL("(%(ds)s::date - {}::date) as {}").format(
                sql.Identifier(check.fresh_column), sql.Identifier(DAYS_BEHIND)
            )
        )
    query = sql.SQL("select {} from {}").format(sql.SQL(", ").join(columns), _relation(check.mart))
    with conn.cursor() as cur:
        cur.execute(query, {"ds": ds})
        names = [d.name for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=names)


def baseline(conn: psycopg.Connection, mart: str, ds: date) -> Profile | None:
    """The latest passing profile before ``ds`` (a failed day is no yardstick) within a week."""
    row = conn.execute(
        "select ds, row_count, metrics from ops.quality_profile "
        "where layer = %s and name = %s and ds < %s and ds >= %s and success "
        "order by ds desc limit 1",
        (LAYER, mart, ds, ds - timedelta(days=BASELINE_LOOKBACK_DAYS)),
    ).fetchone()
    return None if row is None else Profile(row[0], int(row[1]), row[2])


def record_profile(conn: psycopg.Connection, mart: str, profile: Profile, success: bool) -> None:
    """Replace the day's profile (a rerun of the day overwrites it, like every other step)."""
    conn.execute(
        "insert into ops.quality_profile (layer, name, ds, row_count, metrics, success) "
        "values (%s, %s, %s, %s, %s::jsonb, %s) on conflict (layer, name, ds) do update set "
        "row_count = excluded.row_count, metrics = excluded.metrics, success = excluded.success, "
        "checked_at = now()",
        (LAYER, mart, profile.ds, profile.row_count, json.dumps(profile.metrics), success),
    )


# ---- the checkpoint ---------------------------------------------------------------------------------
def _absent(check: MartCheck) -> Failure:
    return Failure(f"{check.mart} exists", "expect_table_to_exist", None, (), error="relation not found")


def validate_mart(
    conn: psycopg.Connection, settings: Settings, check: MartCheck, ds: date
) -> ValidationSummary:
    started = time.monotonic()
    frame = read_mart(conn, check, ds)
    if frame is None:
        failure = _absent(check)
        write_page(settings, LAYER, check.mart, ds, 0, (), (failure,))
        result = PartitionResult(ds, 0, 1, (failure,))
        return ValidationSummary(check.mart, {ds: result}, time.monotonic() - started, layer=LAYER)
    base = baseline(conn, check.mart, ds)
    runner = SuiteRunner(f"ads_{check.mart.replace('.', '_')}", mart_suite(check, ds, base))
    outcomes = runner.run(frame)
    failed = failures(outcomes)
    record_profile(conn, check.mart, profile_of(frame, check, ds), success=not failed)
    page = write_page(settings, LAYER, check.mart, ds, len(frame), outcomes)
    log.info(
        "%s ds=%s: %d rows, baseline %s, %d/%d expectations passed (data docs: %s)",
        check.mart,
        ds,
        len(frame),
        base.ds if base else "none (first run: profile recorded)",
        runner.size - len(failed),
        runner.size,
        page,
    )
    result = PartitionResult(ds, len(frame), runner.size, failed)
    return ValidationSummary(check.mart, {ds: result}, time.monotonic() - started, layer=LAYER)


def validate_ads(
    settings: Settings, ds: date, marts: Iterable[MartCheck] = MARTS
) -> Sequence[ValidationSummary]:
    """Gate every configured mart for ``ds``; raises one DataQualityError naming each failed mart."""
    with connect(settings, autocommit=True) as conn:
        conn.execute(PROFILE_DDL)
        summaries = [validate_mart(conn, settings, check, ds) for check in marts]
    for summary in summaries:
        if not summary.success:
            log.error("%s", summary.describe())
    raise_if_failed(summaries)
    return summaries
