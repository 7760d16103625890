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
from dataclasses import dataclass, fields, replace
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
BASELINE_HISTORY_DAYS = 28  # passing days counted towards a drift rule's minimum baseline
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

    A young warehouse has no yardstick yet: a drift rule stops a day only once ``min_baseline_days``
    passing days were recorded and the baseline had ``min_baseline_rows`` rows (mean and sd of two rows
    say nothing). A metric that **grows by construction** (a running cohort's size, a cumulative count)
    gets no mean/median band at all: with ``key`` it is compared like with like, each key's value with
    the same key's value on the baseline day, and may not shrink by more than ``max_shrink``.
    """

    column: str
    k: float = 1.0
    min_band: float = 0.05
    max_kl: float = 0.125
    min_rows: int = 300
    min_baseline_days: int = 3
    min_baseline_rows: int = 10
    key: tuple[str, ...] = ()
    max_shrink: float = 0.0

    @property
    def grows(self) -> bool:
        return bool(self.key)


@dataclass(frozen=True)
class MartCheck:
    """How one mart is gated; ``fresh_column`` (a date) must reach the run's ds.

    The row count may drop by ``max_drop`` at most; its growth is bounded by ``max_growth`` once
    ``min_baseline_days`` passing days were recorded (a new warehouse's marts double in their first days).
    """

    mart: str  # schema-qualified, e.g. ads.ads_customer_value
    drift: tuple[Drift, ...]
    fresh_column: str | None = None
    max_drop: float = 0.2
    max_growth: float = 1.0
    min_baseline_days: int = 3


MARTS: tuple[MartCheck, ...] = (
    MartCheck(
        "ads.ads_marketplace_sales_trend",
        drift=(Drift("gmv"), Drift("orders"), Drift("aov")),
        fresh_column="ds",
    ),
    MartCheck("ads.ads_customer_value", drift=(Drift("gmv"), Drift("orders")), fresh_column="as_of_ds"),
    # A cohort fills up during its month: its size is held to the same cohort's size, never to a band.
    MartCheck(
        "ads.ads_cohort_retention",
        drift=(Drift("retention_rate"), Drift("cohort_size", key=("marketplace", "cohort_month"))),
    ),
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
    days: int = 1  # passing days recorded up to this one (within BASELINE_HISTORY_DAYS)


def configured_marts(settings: Settings, marts: Iterable[MartCheck] = MARTS) -> tuple[MartCheck, ...]:
    """``marts`` with the settings' per-mart and per-metric overrides (``MERCATOR_ADS_DRIFT``).

    Keys are a mart (``ads.ads_channel_kpis``: its row-count fields) or a mart's metric
    (``ads.ads_channel_kpis.gmv``: that metric's drift fields); an unknown key or field is an error.
    """
    overrides = dict(settings.ads_drift_overrides)
    configured = []
    for check in marts:
        drift = tuple(
            _override(d, overrides.pop(f"{check.mart}.{d.column}", {}), f"{check.mart}.{d.column}")
            for d in check.drift
        )
        configured.append(_override(replace(check, drift=drift), overrides.pop(check.mart, {}), check.mart))
    if overrides:
        raise ValueError(f"MERCATOR_ADS_DRIFT names no configured mart or metric: {sorted(overrides)}")
    return tuple(configured)


def _override(rule: Any, values: dict[str, float], name: str) -> Any:
    allowed = {f.name for f in fields(rule)} - {"mart", "drift", "column", "key", "fresh_column"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(
            f"MERCATOR_ADS_DRIFT[{name!r}]: unknown fields {sorted(unknown)}; allowed {sorted(allowed)}"
        )
    return replace(rule, **values) if values else rule


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
            **({"by_key": _by_key(frame, d)} if d.grows else {}),
        }
        for d in check.drift
    }
    return Profile(ds, len(frame), metrics)


def _key_of(frame: pd.DataFrame, drift: Drift) -> pd.Series:
    return frame[list(drift.key)].astype(str).agg("|".join, axis=1)


def _by_key(frame: pd.DataFrame, drift: Drift) -> dict[str, float]:
    """Each key's value (a growing metric is compared per key); keys with no finite value are left out."""
    values = dict(zip(_key_of(frame, drift), frame[drift.column], strict=True))
    return {k: float(v) for k, v in values.items() if _stat(v) is not None}


def ratio_column(drift: Drift) -> str:
    return f"_{drift.column}_vs_baseline"


def with_baseline(frame: pd.DataFrame, check: MartCheck, base: Profile | None) -> pd.DataFrame:
    """Today's frame plus, per growing metric, each row's value over the same key's on the baseline day."""
    extra = {}
    for drift in check.drift:
        if drift.grows:
            before = ((base.metrics.get(drift.column) or {}).get("by_key") if base else None) or {}
            previous = (
                _key_of(frame, drift).map(before).astype(float) if len(frame) else pd.Series([], dtype=float)
            )
            ratio = frame[drift.column].astype(float) / previous.where(previous > 0)
            extra[ratio_column(drift)] = ratio
    return frame.assign(**extra) if extra else frame


def _row_count_check(check: MartCheck, base: Profile | None) -> Check:
    if base is None:
        return Check("ExpectTableRowCountToBeBetween", {"min_value": 1}, "row count > 0 (no baseline yet)")
    low = math.floor(base.row_count * (1 - check.max_drop))
    if base.days < check.min_baseline_days:
        label = (
            f"row count at least -{check.max_drop:.0%} of {base.ds.isoformat()} ({base.row_count} rows; "
            f"growth not bounded before {check.min_baseline_days} baseline days, {base.days} so far)"
        )
        return Check("ExpectTableRowCountToBeBetween", {"min_value": max(low, 1)}, label)
    high = math.ceil(base.row_count * (1 + check.max_growth))
    label = (
        f"row count within -{check.max_drop:.0%}/+{check.max_growth:.0%} "
        f"of {base.ds.isoformat()} ({base.row_count} rows)"
    )
    return Check("ExpectTableRowCountToBeBetween", {"min_value": max(low, 1), "max_value": high}, label)


def _young_baseline(mart: str, drift: Drift, base: Profile) -> bool:
    """Too little history for ``drift`` to stop a day (logged, so the data docs' gap is explained)."""
    if base.days >= drift.min_baseline_days and base.row_count >= drift.min_baseline_rows:
        return False
    log.info(
        "%s: drift of %s not gated yet: baseline %s has %d passing days and %d rows (needs %d and %d)",
        mart,
        drift.column,
        base.ds,
        base.days,
        base.row_count,
        drift.min_baseline_days,
        drift.min_baseline_rows,
    )
    return True


def _growth_check(drift: Drift, base: Profile) -> Check:
    """A metric that grows by construction, held to the same key's value on the baseline day."""
    floor = 1 - drift.max_shrink
    label = (
        f"{drift.column} of each {'/'.join(drift.key)} at least {floor:.0%} of its value on "
        f"{base.ds.isoformat()} (grows by construction: compared like with like, no mean band)"
    )
    return Check("ExpectColumnValuesToBeBetween", {"column": ratio_column(drift), "min_value": floor}, label)


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
            if drift.grows:
                checks.append(_growth_check(drift, base))  # a shrinking cohort is lost data at any age
                continue
            if _young_baseline(check.mart, drift, base):
                continue
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
    keys = dict.fromkeys(k for d in check.drift for k in d.key)
    columns += [sql.SQL("{}::text as {}").format(sql.Identifier(k), sql.Identifier(k)) for k in keys]
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
    """The latest passing profile before ``ds`` (a failed day is no yardstick) within a week, with the
    number of passing days recorded before ``ds`` (what a drift rule's minimum baseline counts)."""
    row = conn.execute(
        "select ds, row_count, metrics, count(*) over () from ops.quality_profile "
        "where layer = %s and name = %s and ds < %s and ds >= %s and success "
        "order by ds desc limit 1",
        (LAYER, mart, ds, ds - timedelta(days=BASELINE_HISTORY_DAYS)),
    ).fetchone()
    if row is None or row[0] < ds - timedelta(days=BASELINE_LOOKBACK_DAYS):
        return None
    return Profile(row[0], int(row[1]), row[2], int(row[3]))


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
    outcomes = runner.run(with_baseline(frame, check, base))
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
    settings: Settings, ds: date, marts: Iterable[MartCheck] | None = None
) -> Sequence[ValidationSummary]:
    """Gate every configured mart for ``ds``; raises one DataQualityError naming each failed mart."""
    checks = configured_marts(settings) if marts is None else tuple(marts)
    with connect(settings, autocommit=True) as conn:
        conn.execute(PROFILE_DDL)
        summaries = [validate_mart(conn, settings, check, ds) for check in checks]
    for summary in summaries:
        if not summary.success:
            log.error("%s", summary.describe())
    raise_if_failed(summaries)
    return summaries
