"""Fixed-horizon comparisons of two variants: Welch's t-test for means, the delta method for ratios.

Every function takes summary statistics (not raw rows) and broadcasts over numpy arrays, so the same
code analyses one experiment from the warehouse or 10,000 simulated ones in a single call.

Notation: ``var_*`` is the unit-level sample variance (ddof=1); ``var_est_*`` is the variance of an
estimate (for a mean, ``var / n``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

ArrayLike = float | np.ndarray


def _out(x: np.ndarray) -> ArrayLike:
    """Plain floats for scalar inputs, arrays otherwise."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


@dataclass(frozen=True)
class Comparison:
    """Treatment minus control: absolute and relative lift with two-sided intervals and a p-value."""

    diff: ArrayLike
    se: ArrayLike
    df: ArrayLike
    ci_low: ArrayLike
    ci_high: ArrayLike
    p_value: ArrayLike
    rel: ArrayLike
    rel_se: ArrayLike
    rel_ci_low: ArrayLike
    rel_ci_high: ArrayLike


def mean_and_variance(n: ArrayLike, total: ArrayLike, sumsq: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample variance (ddof=1) from count, sum and sum of squares (what SQL aggregates give)."""
    n = np.asarray(n, dtype=float)
    mean = np.asarray(total, dtype=float) / n
    var = (np.asarray(sumsq, dtype=float) - n * mean**2) / (n - 1)
    return mean, np.maximum(var, 0.0)


def welch_df(var_est_t: ArrayLike, n_t: ArrayLike, var_est_c: ArrayLike, n_c: ArrayLike) -> np.ndarray:
    """Welch-Satterthwaite degrees of freedom (infinite when both variances are zero)."""
    v_t, v_c = np.asarray(var_est_t, dtype=float), np.asarray(var_est_c, dtype=float)
    num = (v_t + v_c) ** 2
    den = v_t**2 / (np.asarray(n_t, dtype=float) - 1) + v_c**2 / (np.asarray(n_c, dtype=float) - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.inf)


def compare(
    est_t: ArrayLike,
    var_est_t: ArrayLike,
    est_c: ArrayLike,
    var_est_c: ArrayLike,
    *,
    df: ArrayLike = np.inf,
    alpha: float = 0.05,
) -> Comparison:
    """Compare two independent estimates; t-based when ``df`` is finite, normal otherwise.

    The relative lift ``est_t / est_c - 1`` gets a delta-method interval:
    ``Var ≈ var_t / c² + t² var_c / c⁴``. It is NaN when the control estimate is zero.
    """
    est_t, est_c = np.asarray(est_t, dtype=float), np.asarray(est_c, dtype=float)
    v_t, v_c = np.asarray(var_est_t, dtype=float), np.asarray(var_est_c, dtype=float)
    df = np.asarray(df, dtype=float)
    diff = est_t - est_c
    se = np.sqrt(v_t + v_c)
    crit = sps.t.ppf(1 - alpha / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = diff / se
        p = np.where(se > 0, 2 * sps.t.sf(np.abs(stat), df), np.where(diff == 0, 1.0, 0.0))
        rel = np.where(est_c != 0, est_t / est_c - 1, np.nan)
        rel_se = np.where(est_c != 0, np.sqrt(v_t / est_c**2 + est_t**2 * v_c / est_c**4), np.nan)
    return Comparison(
        diff=_out(diff),
        se=_out(se),
        df=_out(np.broadcast_to(df, diff.shape)),
        ci_low=_out(diff - crit * se),
        ci_high=_out(diff + crit * se),
        p_value=_out(p),
        rel=_out(rel),
        rel_se=_out(rel_se),
        rel_ci_low=_out(rel - crit * rel_se),
        rel_ci_high=_out(rel + crit * rel_se),
    )


def welch_test(
    mean_t: ArrayLike,
    var_t: ArrayLike,
    n_t: ArrayLike,
    mean_c: ArrayLike,
    var_c: ArrayLike,
    n_c: ArrayLike,
    *,
    alpha: float = 0.05,
) -> Comparison:
    """Welch's unequal-variance t-test and interval for a difference in means (e.g. GMV per user, CR)."""
    n_t, n_c = np.asarray(n_t, dtype=float), np.asarray(n_c, dtype=float)
    v_t, v_c = np.asarray(var_t, dtype=float) / n_t, np.asarray(var_c, dtype=float) / n_c
    return compare(mean_t, v_t, mean_c, v_c, df=welch_df(v_t, n_t, v_c, n_c), alpha=alpha)


def ratio_estimate(
    n: ArrayLike,
    mean_num: ArrayLike,
    mean_den: ArrayLike,
    var_num: ArrayLike,
    var_den: ArrayLike,
    cov: ArrayLike,
) -> tuple[ArrayLike, ArrayLike]:
    """A ratio of sums (clicks/impressions, GMV/spend) and its delta-method variance.

    The randomisation unit is the user, not the impression, so impressions of one user are correlated
    and a binomial variance would be too small. With per-user means ``ȳ, x̄`` and ``R = ȳ / x̄``:
    ``Var(R) ≈ (s²_y - 2 R s_xy + R² s²_x) / (n x̄²)``.
    """
    n = np.asarray(n, dtype=float)
    mean_num, mean_den = np.asarray(mean_num, dtype=float), np.asarray(mean_den, dtype=float)
    ratio = mean_num / mean_den
    var = (np.asarray(var_num) - 2 * ratio * np.asarray(cov) + ratio**2 * np.asarray(var_den)) / (
        n * mean_den**2
    )
    return _out(ratio), _out(np.maximum(var, 0.0))


def ratio_ci(
    n: ArrayLike,
    mean_num: ArrayLike,
    mean_den: ArrayLike,
    var_num: ArrayLike,
    var_den: ArrayLike,
    cov: ArrayLike,
    *,
    alpha: float = 0.05,
) -> tuple[ArrayLike, ArrayLike, ArrayLike]:
    """A single variant's ratio (e.g. its CTR) with a delta-method normal interval: (ratio, low, high)."""
    ratio, var = ratio_estimate(n, mean_num, mean_den, var_num, var_den, cov)
    half = sps.norm.ppf(1 - alpha / 2) * np.sqrt(var)
    return ratio, _out(np.asarray(ratio) - half), _out(np.asarray(ratio) + half)


def delta_ratio_test(
    t: tuple[ArrayLike, ...], c: tuple[ArrayLike, ...], *, alpha: float = 0.05
) -> Comparison:
    """Compare a ratio metric between variants; ``t`` and ``c`` are the arguments of :func:`ratio_estimate`.

    Large-sample normal reference (the delta method is asymptotic), so ``df`` is infinite.
    """
    r_t, v_t = ratio_estimate(*t)
    r_c, v_c = ratio_estimate(*c)
    return compare(r_t, v_t, r_c, v_c, df=np.inf, alpha=alpha)
