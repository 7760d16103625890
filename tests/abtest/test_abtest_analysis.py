"""The analysis API: unit-level and aggregated paths agree, errors are clear, SRM blocks the verdict."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from abtest.analysis import AnalysisConfig, Metric, analyze, analyze_moments, binomial_moments, summarize
from abtest.config import Experiment, Variant
from abtest.corrections import benjamini_hochberg, holm
from abtest.report import BLOCKED
from abtest.sequential import SequentialConfig

CONFIG = AnalysisConfig("promo_2024", "control", {"control": 1, "treatment": 1})
METRICS = [
    Metric.mean("cr", "converted"),
    Metric.mean("gmv_per_user", "gmv", covariate="gmv_pre"),
    Metric.ratio("ctr", "clicks", "impressions"),
    Metric.ratio("roas", "gmv", "spend"),
]
AT = datetime(2024, 6, 30, tzinfo=UTC)


def shop_units(n: int = 20_000, seed: int = 0, lift: float = 0.0, share: float = 0.5) -> pd.DataFrame:
    """Synthetic users of an ad experiment with a pre-period GMV that predicts post-period GMV."""
    rng = np.random.default_rng(seed)
    treated = rng.random(n) < share
    impressions = rng.poisson(30, n) + 1
    clicks = rng.binomial(impressions, 0.04 * (1 + lift * treated))
    gmv_pre = rng.gamma(1.5, 40, n)
    converted = rng.random(n) < np.minimum(0.01 + 0.0012 * gmv_pre, 1) * (1 + lift * treated)
    gmv = converted * (0.6 * gmv_pre + rng.gamma(2, 20, n))
    spend = rng.gamma(2, 0.5, n)
    return pd.DataFrame(
        {
            "variant": np.where(treated, "treatment", "control"),
            "converted": converted.astype(int),
            "gmv": gmv,
            "gmv_pre": gmv_pre,
            "clicks": clicks,
            "impressions": impressions,
            "spend": spend,
        }
    )


def test_per_variant_values_and_lifts():
    units = shop_units(lift=0.3)
    report = analyze(units, METRICS, CONFIG, analysed_at=AT)
    t, c = units[units.variant == "treatment"], units[units.variant == "control"]
    cr = report.result("cr", "treatment")
    assert cr.control_value == pytest.approx(c.converted.mean())
    assert cr.variant_value == pytest.approx(t.converted.mean())
    ref = stats.ttest_ind(t.converted, c.converted, equal_var=False)
    assert cr.p_value == pytest.approx(ref.pvalue, rel=1e-6)
    assert cr.abs_lift == pytest.approx(t.converted.mean() - c.converted.mean())
    assert cr.rel_lift == pytest.approx(t.converted.mean() / c.converted.mean() - 1)
    ctr = report.result("ctr", "treatment")
    assert ctr.variant_value == pytest.approx(t.clicks.sum() / t.impressions.sum())
    assert ctr.method == "delta" and ctr.kind == "ratio"
    roas = report.result("roas", "treatment")
    assert roas.control_value == pytest.approx(c.gmv.sum() / c.spend.sum())
    gmv = report.result("gmv_per_user", "treatment")
    assert gmv.method == "cuped" and gmv.variance_reduction > 0.05
    assert gmv.variant_value == pytest.approx(t.gmv.mean())
    assert cr.significant and cr.decision == "better" and ctr.decision == "better"
    assert report.analysed_at == AT and not report.blocked


def test_aggregated_moments_give_the_same_report_as_unit_rows():
    units = shop_units(seed=1, lift=0.1)
    moments = summarize(units, METRICS, CONFIG)
    assert moments.loc["control", "n"] == (units.variant == "control").sum()
    assert moments.loc["treatment", "sumxy__clicks__impressions"] == pytest.approx(
        (units.clicks * units.impressions)[units.variant == "treatment"].sum()
    )
    from_units = analyze(units, METRICS, CONFIG, analysed_at=AT).to_dataframe()
    from_moments = analyze_moments(moments, METRICS, CONFIG, analysed_at=AT).to_dataframe()
    pd.testing.assert_frame_equal(from_units, from_moments)


def test_binomial_counts_from_a_dashboard():
    moments = binomial_moments({"control": (10_000, 500), "treatment": (10_000, 600)}, "orders")
    report = analyze_moments(moments, [Metric.mean("cr", "orders")], CONFIG)
    row = report.result("cr", "treatment")
    assert row.control_value == 0.05 and row.variant_value == 0.06
    pooled_se = np.sqrt(0.05 * 0.95 / 9999 + 0.06 * 0.94 / 9999)
    assert row.abs_ci_high - row.abs_lift == pytest.approx(1.96 * pooled_se, rel=1e-3)
    with pytest.raises(ValueError, match="successes <= units"):
        binomial_moments({"control": (10, 11)}, "orders")


def test_sample_ratio_mismatch_blocks_the_verdict():
    units = shop_units(n=100_000, seed=2, lift=0.5, share=0.52)
    report = analyze(units, METRICS, CONFIG)
    assert report.blocked and report.srm.flagged and report.srm.p_value < 0.001
    assert all(r.decision == BLOCKED and not r.significant for r in report.results)
    assert report.verdict.startswith("SAMPLE RATIO MISMATCH in promo_2024")
    assert "**BLOCKED**" in report.to_markdown() and "Verdict" not in report.to_markdown()
    # the lift itself is huge; without the mismatch it would be called
    assert report.result("cr", "treatment").p_adjusted < 1e-10


def test_corrections_are_applied_across_all_comparisons():
    units = shop_units(seed=3, lift=0.05)
    three = pd.concat([units, shop_units(n=5_000, seed=4).assign(variant="v2")], ignore_index=True)
    config = AnalysisConfig("promo_2024", "control", {"control": 2, "treatment": 2, "v2": 1})
    report = analyze(three, METRICS, config)
    frame = report.to_dataframe()
    assert not report.blocked
    assert len(frame) == len(METRICS) * 2
    assert frame["p_adjusted"].to_numpy() == pytest.approx(holm(frame["p_value"].to_numpy()))
    bh = analyze(three, METRICS, dataclasses.replace(config, correction="bh")).to_dataframe()
    assert bh["p_adjusted"].to_numpy() == pytest.approx(benjamini_hochberg(bh["p_value"].to_numpy()))
    assert (frame["significant"] == (frame["p_adjusted"] < 0.05)).all()


def test_lower_is_better_metric_decision():
    units = shop_units(seed=5)
    units["refunds"] = np.where(units.variant == "treatment", 0.2, 0.1) + np.random.default_rng(5).normal(
        0, 0.05, len(units)
    )
    report = analyze(units, [Metric.mean("refund_rate", "refunds", higher_is_better=False)], CONFIG)
    assert report.result("refund_rate", "treatment").decision == "worse"


def test_sequential_option_fills_always_valid_columns_and_decides():
    units = shop_units(seed=6, lift=0.3)
    config = AnalysisConfig(**{**CONFIG.__dict__, "sequential": SequentialConfig(tau_relative=0.1)})
    report = analyze(units, METRICS, config)
    assert report.sequential
    for r in report.results:
        assert r.seq_ci_low < r.abs_ci_low <= r.abs_ci_high < r.seq_ci_high
        assert r.seq_p_value >= r.p_value
        assert r.significant == (r.seq_p_adjusted < 0.05)
    md = report.to_markdown()
    assert "always-valid CI" in md and "(always-valid)" in md


def test_config_from_experiment_uses_its_control_and_weights():
    exp = Experiment("e", "s", (Variant("treat", 3), Variant("base", 1)), control="base")
    config = AnalysisConfig.for_experiment(exp, alpha=0.01)
    assert config.control == "base" and config.expected_shares == {"treat": 0.75, "base": 0.25}
    assert config.treatments == ["treat"] and config.alpha == 0.01


def test_rows_without_variant_are_ignored():
    units = shop_units(seed=7)
    with_holdout = pd.concat([units, units.head(500).assign(variant=None)], ignore_index=True)
    a = analyze(units, METRICS[:1], CONFIG, analysed_at=AT).to_dataframe()
    b = analyze(with_holdout, METRICS[:1], CONFIG, analysed_at=AT).to_dataframe()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda u: u[u.variant == "control"], r"promo_2024.*variant\(s\) \['treatment'\] missing"),
        (
            lambda u: u.assign(variant=u.variant.replace("treatment", "treatmnt")),
            r"'treatmnt'.*not configured",
        ),
        (lambda u: u.assign(spend=-u.spend), r"metric 'roas' denominator 'spend' is negative"),
        (lambda u: u.assign(spend=0.0), r"metric 'roas' variant 'control' has zero 'spend'"),
        (lambda u: u.drop(columns="clicks"), r"metric 'ctr' needs missing column\(s\) \['clicks'\]"),
        (
            lambda u: u.assign(gmv=np.where(u.index < 3, np.nan, u.gmv)),
            r"'gmv_per_user' column 'gmv' has 3 missing",
        ),
        (lambda u: u.assign(gmv=np.inf), r"column 'gmv' has infinite"),
        (lambda u: u.rename(columns={"variant": "arm"}), r"variant column 'variant' not in data"),
        (lambda u: u.head(0), r"missing from data"),
    ],
)
def test_impossible_input_gets_a_clear_error(mutate, message):
    with pytest.raises(ValueError, match=message):
        analyze(mutate(shop_units(n=2000, seed=8)), METRICS, CONFIG)


def test_zero_exposures_and_single_unit_variants_are_rejected():
    moments = summarize(shop_units(n=2000, seed=9), METRICS, CONFIG)
    empty = moments.copy()
    empty.loc["treatment", :] = 0
    with pytest.raises(ValueError, match=r"promo_2024.*variant 'treatment' has zero exposures"):
        analyze_moments(empty, METRICS, CONFIG)
    one = moments.copy()
    one.loc["control", "n"] = 1
    with pytest.raises(ValueError, match="variant 'control' has 1 unit"):
        analyze_moments(one, METRICS, CONFIG)
    negative = moments.copy()
    negative.loc["treatment", "sum__spend"] = -5.0
    with pytest.raises(ValueError, match="metric 'roas' variant 'treatment' has negative 'spend' total"):
        analyze_moments(negative, METRICS, CONFIG)
    with pytest.raises(ValueError, match=r"metric 'ctr' needs moment column\(s\)"):
        analyze_moments(moments.drop(columns="sumxy__clicks__impressions"), METRICS, CONFIG)


def test_invalid_metric_and_config_definitions():
    with pytest.raises(ValueError, match=r"CUPED .* mean metrics only"):
        Metric("ctr", "clicks", "impressions", covariate="pre")
    with pytest.raises(ValueError, match="control 'ctl' is not among the variants"):
        AnalysisConfig("e", "ctl", {"control": 1, "treatment": 1})
    with pytest.raises(ValueError, match="unknown correction"):
        AnalysisConfig("e", "control", {"control": 1, "treatment": 1}, correction="bonferroni")
    with pytest.raises(ValueError, match="duplicate metric names"):
        analyze(shop_units(n=500), [METRICS[0], METRICS[0]], CONFIG)
    with pytest.raises(ValueError, match="no metrics"):
        analyze(shop_units(n=500), [], CONFIG)
