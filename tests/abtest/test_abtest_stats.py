"""Unit tests of the statistical building blocks against independent references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from abtest.corrections import adjust, benjamini_hochberg, holm
from abtest.cuped import adjusted_moments, cuped_adjust, pooled_theta
from abtest.sequential import SequentialConfig, always_valid_p_value, confidence_sequence, msprt_log_lr
from abtest.srm import srm_check, srm_p_value
from abtest.stats import compare, delta_ratio_test, mean_and_variance, ratio_ci, ratio_estimate, welch_test


def test_welch_matches_scipy():
    rng = np.random.default_rng(0)
    t, c = rng.normal(1, 2, 80), rng.normal(0, 1, 50)
    ours = welch_test(t.mean(), t.var(ddof=1), len(t), c.mean(), c.var(ddof=1), len(c))
    ref = stats.ttest_ind(t, c, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert ours.df == pytest.approx(ref.df, rel=1e-9)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert isinstance(ours.p_value, float)


def test_welch_broadcasts_over_many_experiments():
    rng = np.random.default_rng(1)
    t, c = rng.normal(0.2, 1, (5, 40)), rng.normal(0, 1, (5, 60))
    ours = welch_test(t.mean(1), t.var(1, ddof=1), 40, c.mean(1), c.var(1, ddof=1), 60)
    ref = stats.ttest_ind(t, c, axis=1, equal_var=False)
    assert np.allclose(ours.p_value, ref.pvalue)


def test_mean_and_variance_from_sums():
    x = np.array([1.0, 4.0, 2.5, 0.0, 7.0])
    mean, var = mean_and_variance(len(x), x.sum(), (x**2).sum())
    assert mean == pytest.approx(x.mean()) and var == pytest.approx(x.var(ddof=1))


def test_relative_lift_delta_interval():
    cmp = compare(11.0, 0.04, 10.0, 0.09, df=np.inf)
    assert cmp.rel == pytest.approx(0.1)
    expected_se = np.sqrt(0.04 / 100 + 121 * 0.09 / 10_000)
    assert cmp.rel_se == pytest.approx(expected_se)
    assert cmp.rel_ci_high - cmp.rel == pytest.approx(1.959964 * expected_se, rel=1e-6)
    assert np.isnan(compare(1.0, 0.1, 0.0, 0.1).rel)


def test_zero_variance_gives_degenerate_but_defined_results():
    same = compare(0.0, 0.0, 0.0, 0.0)
    assert same.p_value == 1.0 and same.ci_low == same.ci_high == 0.0
    assert compare(1.0, 0.0, 0.0, 0.0).p_value == 0.0


def test_delta_method_equals_linearisation_variance():
    rng = np.random.default_rng(2)
    x = rng.poisson(20, 3000).astype(float) + 1
    y = rng.binomial(x.astype(int), 0.05).astype(float)
    n = len(x)
    cov = np.cov(y, x, ddof=1)[0, 1]
    ratio, var = ratio_estimate(n, y.mean(), x.mean(), y.var(ddof=1), x.var(ddof=1), cov)
    assert ratio == pytest.approx(y.sum() / x.sum())
    linear = (y - ratio * x) / x.mean()  # influence function of sum(y)/sum(x)
    assert var == pytest.approx(linear.var(ddof=1) / n, rel=1e-9)
    r, lo, hi = ratio_ci(n, y.mean(), x.mean(), y.var(ddof=1), x.var(ddof=1), cov)
    assert lo < r < hi and (hi - lo) == pytest.approx(2 * 1.959964 * np.sqrt(var), rel=1e-6)
    # correlated impressions make the delta variance differ from the naive binomial one
    cmp = delta_ratio_test(
        (n, y.mean(), x.mean(), y.var(ddof=1), x.var(ddof=1), cov),
        (n, y.mean(), x.mean(), y.var(ddof=1), x.var(ddof=1), cov),
    )
    assert cmp.diff == 0 and cmp.p_value == 1.0 and np.isinf(cmp.df)


def test_cuped_removes_rho_squared_of_the_variance():
    rng = np.random.default_rng(3)
    x = rng.normal(size=50_000)
    y = 0.7 * x + np.sqrt(1 - 0.49) * rng.normal(size=50_000)
    adj = cuped_adjust(y, x)
    assert adj.mean() == pytest.approx(y.mean())
    assert adj.var() / y.var() == pytest.approx(1 - np.corrcoef(y, x)[0, 1] ** 2, rel=1e-6)
    cov = np.cov(y, x, ddof=1)[0, 1]
    theta = pooled_theta(np.array([len(x)]), np.array([cov]), np.array([x.var(ddof=1)]))
    mean_adj, var_adj = adjusted_moments(
        y.mean(), y.var(ddof=1), x.mean(), x.var(ddof=1), cov, theta, x.mean()
    )
    assert var_adj == pytest.approx(adj.var(ddof=1), rel=1e-9) and mean_adj == pytest.approx(y.mean())
    assert pooled_theta(np.array([10, 10]), np.array([1.0, 1.0]), np.array([0.0, 0.0])) == 0.0


def test_holm_and_bh_match_hand_computed_values():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust(p, "none") == pytest.approx(p)
    assert (holm(p) >= benjamini_hochberg(p)).all() and (benjamini_hochberg(p) >= p).all()
    assert holm(np.array([0.5, 0.9])) == pytest.approx([1.0, 1.0])  # capped at 1
    with_nan = holm(np.array([0.01, np.nan, 0.02]))
    assert np.isnan(with_nan[1]) and with_nan[[0, 2]] == pytest.approx([0.02, 0.02])
    with pytest.raises(ValueError, match="unknown multiple-testing correction"):
        adjust(p, "bonferonni")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm(np.array([1.5]))


def test_srm_check_known_values():
    ok = srm_check({"a": 50_000, "b": 50_000}, {"a": 1, "b": 1}, experiment="e")
    assert ok.p_value == pytest.approx(1.0) and not ok.flagged
    bad = srm_check({"a": 51_000, "b": 49_000}, {"a": 0.5, "b": 0.5}, experiment="e")
    assert bad.chi2 == pytest.approx(40.0) and bad.p_value == pytest.approx(stats.chi2.sf(40, 1))
    assert bad.flagged and "SAMPLE RATIO MISMATCH in e" in bad.message
    weighted = srm_check({"a": 20_000, "b": 80_000}, {"a": 1, "b": 4})
    assert not weighted.flagged
    three = srm_p_value(np.array([[1000, 1000, 1000], [1000, 1000, 1200]]), np.array([1, 1, 1]))
    assert three[0] == pytest.approx(1.0) and three[1] < 0.001
    assert srm_check({"a": 0, "b": 100}, {"a": 1, "b": 1}).flagged


def test_srm_alarm_threshold_is_p_below_0001():
    just_over = srm_check({"a": 50_560, "b": 49_440}, {"a": 1, "b": 1})  # chi2 12.5, p = 0.0004
    assert 0.0001 < just_over.p_value < 0.001 and just_over.flagged
    just_under = srm_check({"a": 50_488, "b": 49_512}, {"a": 1, "b": 1})  # chi2 9.5, p = 0.002
    assert 0.001 < just_under.p_value < 0.01 and not just_under.flagged
    assert just_under.threshold == 0.001
    assert srm_check({"a": 50_488, "b": 49_512}, {"a": 1, "b": 1}, threshold=0.01).flagged


def test_srm_check_rejects_bad_input():
    with pytest.raises(ValueError, match=r"exp1: variants \['c'\] were observed"):
        srm_check({"a": 1, "c": 2}, {"a": 1, "b": 1}, experiment="exp1")
    with pytest.raises(ValueError, match="zero exposures"):
        srm_check({"a": 0, "b": 0}, {"a": 1, "b": 1})
    with pytest.raises(ValueError, match="expected share must be > 0"):
        srm_check({"a": 5, "b": 5}, {"a": 0, "b": 1})


def test_confidence_sequence_is_the_inverse_of_the_msprt():
    diff, var, tau2 = 0.3, 0.01, 0.04
    lo, hi = confidence_sequence(diff, var, tau2, alpha=0.05)
    assert msprt_log_lr(diff, var, tau2, theta0=lo) == pytest.approx(np.log(20))
    assert msprt_log_lr(diff, var, tau2, theta0=hi) == pytest.approx(np.log(20))
    fixed = 1.959964 * np.sqrt(var)
    assert hi - diff > fixed  # always-valid costs width
    p = always_valid_p_value(diff, var, tau2)
    assert (p < 0.05) == (lo > 0 or hi < 0)
    lows, highs = confidence_sequence(
        np.array([[0.5, -0.2, 0.1]]), np.array([[0.04, 0.02, 0.01]]), 0.04, axis=1
    )
    assert (np.diff(lows[0]) >= 0).all() and (np.diff(highs[0]) <= 0).all()
    ps = always_valid_p_value(np.array([[0.5, 0.0, 0.0]]), np.array([[0.01, 0.01, 0.01]]), 0.04, axis=1)
    assert (np.diff(ps[0]) <= 0).all()
    with pytest.raises(ValueError, match="tau_relative"):
        SequentialConfig(tau_relative=0)
