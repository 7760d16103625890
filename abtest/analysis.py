"""Experiment analysis on unit-level rows or on per-variant aggregates (sufficient statistics).

Everything reduces to *moments* per variant: ``n``, ``sum__<col>``, ``sumsq__<col>`` and
``sumxy__<a>__<b>``. They are what ``count(*), sum(x), sum(x*x), sum(x*y) ... group by variant``
returns in the warehouse, so a billion-row experiment can be aggregated in SQL and analysed here with
exactly the same code path as a DataFrame of users (:func:`summarize` builds them from rows).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from abtest.config import Experiment
from abtest.corrections import Correction, adjust
from abtest.cuped import adjusted_moments, pooled_theta
from abtest.report import BLOCKED, ExperimentReport, MetricResult
from abtest.sequential import SequentialConfig, always_valid_p_value, confidence_sequence
from abtest.srm import SRM_THRESHOLD, srm_check
from abtest.stats import Comparison, compare, mean_and_variance, ratio_estimate, welch_df

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Metric:
    """A metric: the per-unit mean of ``numerator``, or the ratio of sums ``numerator / denominator``.

    Examples: CR = ``Metric.mean("cr", "converted")``; GMV per user = ``Metric.mean("gmv_per_user",
    "gmv")``; CTR = ``Metric.ratio("ctr", "clicks", "impressions")``; ROAS = ``Metric.ratio("roas",
    "gmv", "spend")``. ``covariate`` (means only) turns on CUPED with that pre-period column.
    """

    name: str
    numerator: str
    denominator: str | None = None
    covariate: str | None = None
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if not self.name or not self.numerator:
            raise ValueError(
                f"metric needs a name and a numerator column, got {self.name!r}/{self.numerator!r}"
            )
        if self.denominator is not None and self.covariate is not None:
            raise ValueError(
                f"metric {self.name!r}: CUPED (covariate) is supported for mean metrics only, not ratios"
            )

    @classmethod
    def mean(
        cls,
        name: str,
        column: str | None = None,
        *,
        covariate: str | None = None,
        higher_is_better: bool = True,
    ) -> Metric:
        return cls(name, column or name, None, covariate, higher_is_better)

    @classmethod
    def ratio(cls, name: str, numerator: str, denominator: str, *, higher_is_better: bool = True) -> Metric:
        return cls(name, numerator, denominator, None, higher_is_better)

    @property
    def kind(self) -> str:
        return "ratio" if self.denominator else "mean"

    @property
    def method(self) -> str:
        if self.denominator:
            return "delta"
        return "cuped" if self.covariate else "welch"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c in (self.numerator, self.denominator, self.covariate) if c)

    @property
    def pair(self) -> tuple[str, str] | None:
        """The two columns whose cross-product the method needs (ratio or CUPED)."""
        other = self.denominator or self.covariate
        return (self.numerator, other) if other else None


@dataclass(frozen=True)
class AnalysisConfig:
    """How to analyse one experiment. ``expected_shares`` are the configured weights (normalised)."""

    experiment: str
    control: str
    expected_shares: Mapping[str, float] = field(hash=False)
    variant_column: str = "variant"
    alpha: float = 0.05
    srm_threshold: float = SRM_THRESHOLD
    correction: Correction = "holm"
    sequential: SequentialConfig | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "expected_shares", MappingProxyType(dict(self.expected_shares)))
        if len(self.expected_shares) < 2:
            raise ValueError(f"experiment {self.experiment!r}: need at least two variants in expected_shares")
        if self.control not in self.expected_shares:
            raise ValueError(
                f"experiment {self.experiment!r}: control {self.control!r} is not among the variants "
                f"{list(self.expected_shares)}"
            )
        if not 0 < self.alpha < 1:
            raise ValueError(f"experiment {self.experiment!r}: alpha must be in (0, 1), got {self.alpha}")
        if self.correction not in ("holm", "bh", "none"):
            raise ValueError(f"experiment {self.experiment!r}: unknown correction {self.correction!r}")

    @classmethod
    def for_experiment(cls, experiment: Experiment, **overrides: Any) -> AnalysisConfig:
        """Config from the splitter's experiment definition (its control and weights)."""
        return cls(experiment.name, experiment.control, experiment.shares, **overrides)

    @property
    def treatments(self) -> list[str]:
        return [v for v in self.expected_shares if v != self.control]


def _moment_columns(metrics: Sequence[Metric]) -> tuple[list[str], list[tuple[str, str]]]:
    cols: list[str] = []
    pairs: list[tuple[str, str]] = []
    for m in metrics:
        cols += [c for c in m.columns if c not in cols]
        if m.pair and m.pair not in pairs:
            pairs.append(m.pair)
    return cols, pairs


def _check_units(units: pd.DataFrame, metrics: Sequence[Metric], config: AnalysisConfig) -> pd.DataFrame:
    exp = config.experiment
    if config.variant_column not in units.columns:
        raise ValueError(f"experiment {exp!r}: variant column {config.variant_column!r} not in data")
    for m in metrics:
        missing = [c for c in m.columns if c not in units.columns]
        if missing:
            raise ValueError(f"experiment {exp!r}: metric {m.name!r} needs missing column(s) {missing}")
    unassigned = units[config.variant_column].isna()
    if unassigned.any():
        log.info("experiment %s: ignoring %d rows without a variant", exp, int(unassigned.sum()))
        units = units.loc[~unassigned]
    for m in metrics:
        for c in m.columns:
            values = pd.to_numeric(units[c], errors="coerce")
            bad = values.isna() & units[c].notna() | units[c].isna()
            if bad.any():
                raise ValueError(
                    f"experiment {exp!r}: metric {m.name!r} column {c!r} has {int(bad.sum())} missing or "
                    f"non-numeric values; fill them (e.g. 0 for no activity) before analysing"
                )
            if not np.isfinite(values.to_numpy(dtype=float)).all():
                raise ValueError(f"experiment {exp!r}: metric {m.name!r} column {c!r} has infinite values")
        if m.denominator is not None:
            negative = units[m.denominator] < 0
            if negative.any():
                variants = sorted(units.loc[negative, config.variant_column].astype(str).unique())
                raise ValueError(
                    f"experiment {exp!r}: metric {m.name!r} denominator {m.denominator!r} is negative in "
                    f"{int(negative.sum())} rows (variants {variants})"
                )
    return units


def summarize(units: pd.DataFrame, metrics: Sequence[Metric], config: AnalysisConfig) -> pd.DataFrame:
    """Per-variant moments from unit-level rows (one row per randomisation unit)."""
    units = _check_units(units, metrics, config)
    cols, pairs = _moment_columns(metrics)
    variant = units[config.variant_column].astype(str)
    data = {"n": np.ones(len(units))}
    for c in cols:
        x = units[c].to_numpy(dtype=float)
        data[f"sum__{c}"] = x
        data[f"sumsq__{c}"] = x * x
    for a, b in pairs:
        data[f"sumxy__{a}__{b}"] = units[a].to_numpy(dtype=float) * units[b].to_numpy(dtype=float)
    moments = pd.DataFrame(data, index=variant.to_numpy()).groupby(level=0).sum()
    moments["n"] = moments["n"].astype("int64")
    moments.index.name = config.variant_column
    return moments


def binomial_moments(counts: Mapping[str, tuple[int, int]], column: str) -> pd.DataFrame:
    """Moments for a 0/1 outcome known only as (units, successes) per variant, e.g. from a dashboard.

    Only valid when the unit counted is the randomisation unit (users converted / users), not
    clicks / impressions of users randomised as a whole.
    """
    rows = {}
    for variant, (n, k) in counts.items():
        if n < 0 or k < 0 or k > n:
            raise ValueError(f"variant {variant!r}: need 0 <= successes <= units for {column!r}, got {k}/{n}")
        rows[variant] = {"n": int(n), f"sum__{column}": float(k), f"sumsq__{column}": float(k)}
    return pd.DataFrame.from_dict(rows, orient="index")


@dataclass(frozen=True)
class _Arm:
    """One variant's estimate of one metric: value (raw), adjusted estimate and its variance."""

    n: float
    value: float
    estimate: float
    var_unit: float  # unit-level variance of what is compared (adjusted for CUPED)
    var_est: float
    var_raw_est: float


def _check_moments(moments: pd.DataFrame, metrics: Sequence[Metric], config: AnalysisConfig) -> None:
    exp = config.experiment
    present = [str(v) for v in moments.index]
    missing = [v for v in config.expected_shares if v not in present]
    unknown = [v for v in present if v not in config.expected_shares]
    if unknown:
        also = f"; configured variant(s) {missing} are missing" if missing else ""
        raise ValueError(
            f"experiment {exp!r}: data has variant(s) {unknown} that are not configured "
            f"{list(config.expected_shares)}{also}"
        )
    if missing:
        raise ValueError(f"experiment {exp!r}: variant(s) {missing} missing from data (have {present})")
    if "n" not in moments.columns:
        raise ValueError(f"experiment {exp!r}: moments need an 'n' column (units per variant)")
    for v in config.expected_shares:
        n = moments.at[v, "n"]
        if n <= 0:
            raise ValueError(f"experiment {exp!r}: variant {v!r} has zero exposures")
        if n < 2:
            raise ValueError(f"experiment {exp!r}: variant {v!r} has {n} unit; at least 2 are needed")
    for m in metrics:
        needed = [f"sum__{c}" for c in m.columns] + [f"sumsq__{c}" for c in m.columns]
        if m.pair:
            needed.append("sumxy__{}__{}".format(*m.pair))
        absent = [c for c in needed if c not in moments.columns]
        if absent:
            raise ValueError(f"experiment {exp!r}: metric {m.name!r} needs moment column(s) {absent}")
        if m.denominator is not None:
            for v in config.expected_shares:
                total = moments.at[v, f"sum__{m.denominator}"]
                if total < 0:
                    raise ValueError(
                        f"experiment {exp!r}: metric {m.name!r} variant {v!r} has negative "
                        f"{m.denominator!r} total {total:g}"
                    )
                if total == 0:
                    raise ValueError(
                        f"experiment {exp!r}: metric {m.name!r} variant {v!r} has zero {m.denominator!r}; "
                        f"the ratio is undefined"
                    )


def _arms(moments: pd.DataFrame, metric: Metric, variants: Iterable[str]) -> dict[str, _Arm]:
    variants = list(variants)
    mo = moments.loc[variants]
    n = mo["n"].to_numpy(dtype=float)
    y = metric.numerator
    mean_y, var_y = mean_and_variance(n, mo[f"sum__{y}"], mo[f"sumsq__{y}"])
    if metric.pair is None:
        return {
            v: _Arm(n[i], mean_y[i], mean_y[i], var_y[i], var_y[i] / n[i], var_y[i] / n[i])
            for i, v in enumerate(variants)
        }
    x = metric.pair[1]
    mean_x, var_x = mean_and_variance(n, mo[f"sum__{x}"], mo[f"sumsq__{x}"])
    cov = (mo[f"sumxy__{y}__{x}"].to_numpy(dtype=float) - n * mean_y * mean_x) / (n - 1)
    if metric.denominator is not None:
        ratio, var_ratio = ratio_estimate(n, mean_y, mean_x, var_y, var_x, cov)
        return {
            v: _Arm(n[i], ratio[i], ratio[i], math.nan, var_ratio[i], var_ratio[i])
            for i, v in enumerate(variants)
        }
    theta = pooled_theta(n, cov, var_x)
    mean_x_all = mo[f"sum__{x}"].sum() / n.sum()
    mean_adj, var_adj = adjusted_moments(mean_y, var_y, mean_x, var_x, cov, theta, mean_x_all)
    return {
        v: _Arm(n[i], mean_y[i], mean_adj[i], var_adj[i], var_adj[i] / n[i], var_y[i] / n[i])
        for i, v in enumerate(variants)
    }


def _compare(metric: Metric, t: _Arm, c: _Arm, alpha: float) -> Comparison:
    df = np.inf if metric.denominator else welch_df(t.var_est, t.n, c.var_est, c.n)
    return compare(t.estimate, t.var_est, c.estimate, c.var_est, df=df, alpha=alpha)


def analyze_moments(
    moments: pd.DataFrame,
    metrics: Sequence[Metric],
    config: AnalysisConfig,
    *,
    analysed_at: datetime | None = None,
) -> ExperimentReport:
    """Analyse per-variant moments (index = variant): SRM check, comparisons, corrections, decisions."""
    if not metrics:
        raise ValueError(f"experiment {config.experiment!r}: no metrics to analyse")
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise ValueError(f"experiment {config.experiment!r}: duplicate metric names {names}")
    moments = moments.copy()
    moments.index = moments.index.astype(str)
    _check_moments(moments, metrics, config)
    srm = srm_check(
        {v: int(moments.at[v, "n"]) for v in config.expected_shares},
        config.expected_shares,
        threshold=config.srm_threshold,
        experiment=config.experiment,
    )
    log.log(
        logging.WARNING if srm.flagged else logging.INFO, "experiment %s: %s", config.experiment, srm.message
    )

    raw: list[dict[str, Any]] = []
    for metric in metrics:
        arms = _arms(moments, metric, config.expected_shares)
        c = arms[config.control]
        for variant in config.treatments:
            t = arms[variant]
            cmp = _compare(metric, t, c, config.alpha)
            row: dict[str, Any] = {
                "metric": metric,
                "variant": variant,
                "t": t,
                "c": c,
                "cmp": cmp,
                "variance_reduction": (
                    1 - (t.var_est + c.var_est) / (t.var_raw_est + c.var_raw_est)
                    if metric.covariate and (t.var_raw_est + c.var_raw_est) > 0
                    else math.nan
                ),
            }
            if config.sequential is not None:
                tau2 = (config.sequential.tau_relative * abs(c.estimate)) ** 2
                var = t.var_est + c.var_est
                if tau2 > 0 and var > 0:
                    row["seq_p"] = float(always_valid_p_value(cmp.diff, var, tau2))
                    lo, hi = confidence_sequence(cmp.diff, var, tau2, alpha=config.alpha)
                    row["seq_ci"] = (float(lo), float(hi))
                else:
                    row["seq_p"], row["seq_ci"] = math.nan, (math.nan, math.nan)
            raw.append(row)

    p_adj = adjust(np.array([r["cmp"].p_value for r in raw]), config.correction)
    seq_adj = (
        adjust(np.array([r["seq_p"] for r in raw]), config.correction)
        if config.sequential is not None
        else np.full(len(raw), math.nan)
    )
    results = []
    for r, pa, sa in zip(raw, p_adj, seq_adj, strict=True):
        metric, cmp, t, c = r["metric"], r["cmp"], r["t"], r["c"]
        decisive = sa if config.sequential is not None else pa
        significant = bool(decisive < config.alpha) and not srm.flagged
        if srm.flagged:
            decision = BLOCKED
        elif significant:
            decision = "better" if (cmp.diff > 0) == metric.higher_is_better else "worse"
        else:
            decision = "inconclusive"
        seq_lo, seq_hi = r.get("seq_ci", (math.nan, math.nan))
        results.append(
            MetricResult(
                experiment=config.experiment,
                metric=metric.name,
                kind=metric.kind,
                method=metric.method,
                control=config.control,
                variant=r["variant"],
                n_control=int(c.n),
                n_variant=int(t.n),
                control_value=float(c.value),
                variant_value=float(t.value),
                abs_lift=float(cmp.diff),
                abs_ci_low=float(cmp.ci_low),
                abs_ci_high=float(cmp.ci_high),
                rel_lift=float(cmp.rel),
                rel_ci_low=float(cmp.rel_ci_low),
                rel_ci_high=float(cmp.rel_ci_high),
                p_value=float(cmp.p_value),
                p_adjusted=float(pa),
                correction=config.correction,
                alpha=config.alpha,
                significant=significant,
                decision=decision,
                variance_reduction=float(r["variance_reduction"]),
                seq_p_value=float(r.get("seq_p", math.nan)),
                seq_p_adjusted=float(sa),
                seq_ci_low=seq_lo,
                seq_ci_high=seq_hi,
            )
        )
    report = ExperimentReport(
        experiment=config.experiment,
        analysed_at=analysed_at or datetime.now(UTC),
        srm=srm,
        results=tuple(results),
        alpha=config.alpha,
        correction=config.correction,
        sequential=config.sequential is not None,
    )
    log.info(
        "experiment %s: %d units, %d metrics, %d comparisons, %d significant%s",
        config.experiment,
        int(moments["n"].sum()),
        len(metrics),
        len(results),
        sum(r.significant for r in results),
        " (BLOCKED by SRM)" if srm.flagged else "",
    )
    return report


def analyze(
    units: pd.DataFrame,
    metrics: Sequence[Metric],
    config: AnalysisConfig,
    *,
    analysed_at: datetime | None = None,
) -> ExperimentReport:
    """Analyse unit-level rows: one row per randomisation unit with its variant and metric columns."""
    return analyze_moments(summarize(units, metrics, config), metrics, config, analysed_at=analysed_at)
