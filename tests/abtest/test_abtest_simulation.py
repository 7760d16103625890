"""Seeded Monte-Carlo checks that the statistics mean what they say (vectorised; a few seconds).

A note on run counts: the done criterion asks for 94-96% coverage "across 1,000 A/A experiments".
With 1,000 runs a perfectly calibrated 95% interval lands outside 94-96% about 15% of the time
(binomial sd 0.69 points), so a test of exactly 1,000 runs would pass or fail by the luck of the seed.
We run ten batches of 1,000 and hold the pooled rate (sd 0.22 points) to the same window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from abtest.analysis import AnalysisConfig, Metric, analyze
from abtest.cuped import adjusted_moments, pooled_theta
from abtest.sequential import always_valid_p_value, confidence_sequence
from abtest.srm import SRM_THRESHOLD, srm_check, srm_p_value
from abtest.stats import delta_ratio_test, ratio_ci, welch_test

BATCHES, PER_BATCH = 10, 1000


def gmv(rng: np.random.Generator, size) -> np.ndarray:
    """GMV per user: 10% buy, lognormal basket (very skewed, like real order values)."""
    return np.where(rng.random(size) < 0.1, rng.lognormal(3.5, 1.0, size), 0.0)


def ad_users(rng: np.random.Generator, size, ctr_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-user clicks and impressions: overdispersed impressions, user-specific click propensity."""
    impressions = rng.negative_binomial(2, 2 / 22, size).astype(float)
    clicks = rng.binomial(impressions.astype(int), np.minimum(rng.beta(2, 38, size) * ctr_scale, 1.0))
    return clicks.astype(float), impressions


def ratio_moments(y: np.ndarray, x: np.ndarray) -> tuple:
    n = y.shape[-1]
    cov = ((y - y.mean(-1, keepdims=True)) * (x - x.mean(-1, keepdims=True))).sum(-1) / (n - 1)
    return n, y.mean(-1), x.mean(-1), y.var(-1, ddof=1), x.var(-1, ddof=1), cov


def test_aa_welch_intervals_cover_zero_and_false_positive_rate_is_nominal():
    rng = np.random.default_rng(20240601)
    covered, false_pos, batch_coverage = 0, 0, []
    for _ in range(BATCHES):
        t, c = gmv(rng, (PER_BATCH, 2000)), gmv(rng, (PER_BATCH, 2000))
        cmp = welch_test(t.mean(1), t.var(1, ddof=1), 2000, c.mean(1), c.var(1, ddof=1), 2000)
        hit = (cmp.ci_low <= 0) & (cmp.ci_high >= 0)
        covered += hit.sum()
        false_pos += (cmp.p_value < 0.05).sum()
        batch_coverage.append(hit.mean())
        assert ((cmp.p_value < 0.05) == ~hit).all()  # interval and test agree
    runs = BATCHES * PER_BATCH
    assert 0.94 <= covered / runs <= 0.96
    assert 0.04 <= false_pos / runs <= 0.06
    assert np.median(batch_coverage) >= 0.94 and np.median(batch_coverage) <= 0.96


def test_aa_delta_method_intervals_for_ctr_are_calibrated():
    """5 x 1,000 runs (sd 0.31 points) keeps the user-level simulation near 3 s."""
    rng = np.random.default_rng(7)
    covered = rel_covered = 0
    batches = 5
    for _ in range(batches):
        t, c = ad_users(rng, (PER_BATCH, 1000)), ad_users(rng, (PER_BATCH, 1000))
        cmp = delta_ratio_test(ratio_moments(*t), ratio_moments(*c))
        covered += ((cmp.ci_low <= 0) & (cmp.ci_high >= 0)).sum()
        rel_covered += ((cmp.rel_ci_low <= 0) & (cmp.rel_ci_high >= 0)).sum()
    assert 0.94 <= covered / (batches * PER_BATCH) <= 0.96
    assert 0.94 <= rel_covered / (batches * PER_BATCH) <= 0.96


def test_naive_binomial_ctr_interval_would_undercover():
    """Guards the reason for the delta method: treating impressions as independent is overconfident."""
    rng = np.random.default_rng(8)
    (yt, xt), (yc, xc) = ad_users(rng, (PER_BATCH, 1000)), ad_users(rng, (PER_BATCH, 1000))
    pt, pc = yt.sum(1) / xt.sum(1), yc.sum(1) / xc.sum(1)
    se = np.sqrt(pt * (1 - pt) / xt.sum(1) + pc * (1 - pc) / xc.sum(1))
    naive = (np.abs(pt - pc) <= 1.96 * se).mean()
    delta = delta_ratio_test(ratio_moments(yt, xt), ratio_moments(yc, xc))
    proper = ((delta.ci_low <= 0) & (delta.ci_high >= 0)).mean()
    assert naive < 0.90 < 0.93 < proper


def test_srm_flags_injected_mismatch_and_rarely_flags_aa():
    rng = np.random.default_rng(11)
    n, runs = 100_000, 10_000
    aa = rng.binomial(n, 0.5, runs)
    aa_rate = (srm_p_value(np.stack([aa, n - aa], 1), [0.5, 0.5]) < SRM_THRESHOLD).mean()
    assert aa_rate <= 0.005
    three = rng.multinomial(n, [0.5, 0.25, 0.25], runs)
    assert (srm_p_value(three, [2, 1, 1]) < SRM_THRESHOLD).mean() <= 0.005

    # "2% SRM" read as 2 points of traffic moved (52/48 instead of 50/50): flagged every time
    moved = rng.binomial(n, 0.52, 1000)
    assert (srm_p_value(np.stack([moved, n - moved], 1), [0.5, 0.5]) < SRM_THRESHOLD).all()
    # read as each arm 2% off its expected count (51/49): power is 99.88% (noncentral chi-square),
    # so 1,000 runs may miss one; exact 51,000 / 49,000 counts are always flagged
    power = stats.ncx2.sf(stats.chi2.isf(SRM_THRESHOLD, 1), 1, n * 2 * 0.01**2 / 0.5)
    assert power > 0.998
    skew = rng.binomial(n, 0.51, 1000)
    assert (srm_p_value(np.stack([skew, n - skew], 1), [0.5, 0.5]) < SRM_THRESHOLD).mean() >= 0.997
    assert srm_check({"control": 51_000, "treatment": 49_000}, {"control": 1, "treatment": 1}).flagged


def test_cuped_with_correlation_07_cuts_lift_variance_by_at_least_40_percent():
    rng = np.random.default_rng(5)
    k, n, rho, effect = 2000, 1000, 0.7, 0.1
    x = rng.normal(size=(k, 2, n))
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=(k, 2, n))
    y[:, 1] += effect
    my, vy, mx, vx = y.mean(2), y.var(2, ddof=1), x.mean(2), x.var(2, ddof=1)
    cov = ((y - my[..., None]) * (x - mx[..., None])).sum(2) / (n - 1)
    raw = welch_test(my[:, 1], vy[:, 1], n, my[:, 0], vy[:, 0], n)
    theta = pooled_theta(np.full((k, 2), n), cov, vx)
    ma, va = adjusted_moments(my, vy, mx, vx, cov, theta[:, None], mx.mean(1, keepdims=True))
    cuped = welch_test(ma[:, 1], va[:, 1], n, ma[:, 0], va[:, 0], n)
    assert np.corrcoef(y[0].ravel(), x[0].ravel())[0, 1] > 0.65
    reduction = 1 - cuped.diff.var() / raw.diff.var()
    assert reduction >= 0.40
    assert 1 - np.mean(cuped.se**2) / np.mean(raw.se**2) >= 0.40  # the reported se shrinks too
    assert abs(cuped.diff.mean() - effect) < 0.003  # still unbiased
    assert 0.94 <= ((cuped.ci_low <= effect) & (effect <= cuped.ci_high)).mean() <= 0.96


def test_cuped_through_the_analysis_api_reports_the_variance_reduction():
    rng = np.random.default_rng(6)
    n = 40_000
    pre = rng.gamma(2.0, 50.0, n)
    post = 0.7 * (pre - pre.mean()) / pre.std() + np.sqrt(1 - 0.49) * rng.normal(size=n) + 5
    units = pd.DataFrame({"variant": np.where(rng.random(n) < 0.5, "control", "treatment"), "gmv": post})
    units["gmv_pre"] = pre
    config = AnalysisConfig("cuped_demo", "control", {"control": 1, "treatment": 1})
    report = analyze(units, [Metric.mean("gmv", covariate="gmv_pre"), Metric.mean("gmv_raw", "gmv")], config)
    cuped, raw = report.result("gmv", "treatment"), report.result("gmv_raw", "treatment")
    assert 0.44 <= cuped.variance_reduction <= 0.54
    width = lambda r: r.abs_ci_high - r.abs_ci_low  # noqa: E731
    assert width(cuped) < 0.75 * width(raw)


def test_delta_interval_for_ctr_matches_bootstrap_within_10_percent_of_width():
    rng = np.random.default_rng(9)
    n, reps = 5000, 2000
    (yt, xt), (yc, xc) = ad_users(rng, n, 1.1), ad_users(rng, n)
    units = pd.DataFrame(
        {
            "variant": ["treatment"] * n + ["control"] * n,
            "clicks": np.concatenate([yt, yc]),
            "impressions": np.concatenate([xt, xc]),
        }
    )
    config = AnalysisConfig("ctr_boot", "control", {"control": 1, "treatment": 1})
    row = analyze(units, [Metric.ratio("ctr", "clicks", "impressions")], config).result("ctr", "treatment")

    def resampled_ctr(y, x):
        out = np.empty(reps)
        for start in range(0, reps, 500):  # users resampled with replacement, in chunks
            idx = rng.integers(0, n, (500, n))
            out[start : start + 500] = y[idx].sum(1) / x[idx].sum(1)
        return out

    boot_t, boot_c = resampled_ctr(yt, xt), resampled_ctr(yc, xc)
    lo, hi = np.percentile(boot_t - boot_c, [2.5, 97.5])
    width = row.abs_ci_high - row.abs_ci_low
    assert abs(row.abs_ci_low - lo) <= 0.1 * width
    assert abs(row.abs_ci_high - hi) <= 0.1 * width
    assert abs((hi - lo) - width) <= 0.1 * width
    # the single-arm CTR interval too
    _, arm_lo, arm_hi = ratio_ci(*ratio_moments(yt, xt))
    b_lo, b_hi = np.percentile(boot_t, [2.5, 97.5])
    assert abs(arm_lo - b_lo) <= 0.1 * (arm_hi - arm_lo) and abs(arm_hi - b_hi) <= 0.1 * (arm_hi - arm_lo)


def test_always_valid_inference_survives_daily_peeking():
    rng = np.random.default_rng(12)
    k, looks, per_look = 1000, 20, 250

    def run(effect: float):
        y = rng.normal(10, 5, size=(k, looks, 2, per_look))
        y[:, :, 1] += effect
        s, ss = y.sum(3).cumsum(1), (y**2).sum(3).cumsum(1)
        n = per_look * np.arange(1, looks + 1)[None, :, None]
        mean = s / n
        var = (ss - n * mean**2) / (n - 1)
        cmp = welch_test(mean[..., 1], var[..., 1], n[..., 0], mean[..., 0], var[..., 0], n[..., 0])
        v = var[..., 1] / n[..., 0] + var[..., 0] / n[..., 0]
        tau2 = (0.05 * 10) ** 2
        p = always_valid_p_value(cmp.diff, v, tau2, axis=1)
        lo, hi = confidence_sequence(cmp.diff, v, tau2, axis=1)
        return cmp, p, lo, hi

    cmp, p, lo, hi = run(0.0)
    naive_ever = (cmp.p_value < 0.05).any(1).mean()
    assert naive_ever > 0.15  # the peeking problem the option exists for
    assert (p[:, -1] < 0.05).mean() <= 0.05
    assert ((lo > 0) | (hi < 0)).any(1).mean() <= 0.05
    _, p_eff, lo_eff, hi_eff = run(0.5)
    assert (p_eff[:, -1] < 0.05).mean() >= 0.9  # still finds a 5% lift by the last look
    assert ((lo_eff > 0.5) | (hi_eff < 0.5)).any(1).mean() <= 0.05
