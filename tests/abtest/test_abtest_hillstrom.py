"""The real Hillstrom e-mail experiment (64,000 customers): lifts, intervals and the SRM check."""

from __future__ import annotations

import pytest
from scipy import stats

from abtest.examples.hillstrom import cuped_report, hillstrom_report, load_hillstrom, main


@pytest.fixture(scope="module")
def frame(hillstrom_csv):
    return load_hillstrom(hillstrom_csv)


@pytest.fixture(scope="module")
def report(frame):
    return hillstrom_report(frame)


def test_assignment_passes_the_sample_ratio_check(report):
    assert dict(report.srm.observed) == {"no_email": 21_306, "mens_email": 21_307, "womens_email": 21_387}
    assert report.srm.p_value == pytest.approx(0.904, abs=0.001)
    assert not report.blocked


@pytest.mark.parametrize(
    ("metric", "variant", "control_value", "variant_value"),
    [
        ("visit", "mens_email", 0.10617, 0.18276),
        ("visit", "womens_email", 0.10617, 0.15140),
        ("conversion", "mens_email", 0.005726, 0.012531),
        ("conversion", "womens_email", 0.005726, 0.008837),
    ],
)
def test_email_lifts_match_an_independent_welch_test(
    frame, report, metric, variant, control_value, variant_value
):
    row = report.result(metric, variant)
    assert row.control_value == pytest.approx(control_value, abs=1e-5)
    assert row.variant_value == pytest.approx(variant_value, abs=1e-5)
    treated = frame.loc[frame.variant == variant, metric]
    control = frame.loc[frame.variant == "no_email", metric]
    ref = stats.ttest_ind(treated, control, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert (row.abs_ci_low, row.abs_ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert row.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-300)
    assert row.abs_ci_low > 0 and row.rel_ci_low > 0  # both e-mails lift visits and conversions
    assert row.significant and row.decision == "better"


def test_mens_email_beats_womens_on_visits(report):
    mens, womens = report.result("visit", "mens_email"), report.result("visit", "womens_email")
    assert mens.abs_ci_low > womens.abs_ci_high  # non-overlapping: +7.7 vs +4.5 points
    assert mens.rel_lift == pytest.approx(0.7214, abs=1e-4) and womens.rel_lift == pytest.approx(
        0.4261, abs=1e-4
    )


def test_history_is_a_weak_cuped_covariate_here(frame):
    row = cuped_report(frame).result("visit", "mens_email")
    assert 0.0 < row.variance_reduction < 0.02  # corr(visit, history) is only ~0.065


def test_example_prints_the_markdown_report(hillstrom_csv, capsys):
    main(["--csv", str(hillstrom_csv)])
    out = capsys.readouterr().out
    assert "## Experiment `hillstrom_email`" in out
    assert "| visit | mens_email vs no_email | 21,307 / 21,306 |" in out
    assert "sample ratio OK (p = 0.904)" in out
