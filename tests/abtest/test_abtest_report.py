"""The report object: a DataFrame for machines, Markdown for people, the same numbers in both."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from abtest.analysis import AnalysisConfig, Metric, analyze
from abtest.report import RESULT_COLUMNS

AT = datetime(2024, 7, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def report():
    rng = np.random.default_rng(0)
    n = 30_000
    variant = rng.choice(["control", "free_shipping", "coupon"], n)
    pre = rng.gamma(2, 10, n)
    units = pd.DataFrame(
        {
            "variant": variant,
            "orders": (rng.random(n) < np.where(variant == "coupon", 0.12, 0.10)).astype(int),
            "gmv": pre * 0.5 + rng.gamma(2, 5, n) * (variant == "free_shipping") + rng.normal(0, 5, n),
            "gmv_pre": pre,
        }
    )
    config = AnalysisConfig("checkout_q3", "control", {"control": 1, "free_shipping": 1, "coupon": 1})
    return analyze(
        units,
        [Metric.mean("cr", "orders"), Metric.mean("gmv_per_user", "gmv", covariate="gmv_pre")],
        config,
        analysed_at=AT,
    )


def test_dataframe_has_one_row_per_metric_and_variant(report):
    frame = report.to_dataframe()
    assert list(frame.columns) == [*RESULT_COLUMNS, "srm_p_value", "srm_flagged", "analysed_at"]
    assert sorted(zip(frame.metric, frame.variant, strict=True)) == [
        ("cr", "coupon"),
        ("cr", "free_shipping"),
        ("gmv_per_user", "coupon"),
        ("gmv_per_user", "free_shipping"),
    ]
    assert (frame.control == "control").all() and (frame.analysed_at == pd.Timestamp(AT)).all()
    assert (frame.abs_ci_low <= frame.abs_lift).all() and (frame.abs_lift <= frame.abs_ci_high).all()
    assert frame.srm_p_value.nunique() == 1 and not frame.srm_flagged.any()
    row = frame.set_index(["metric", "variant"]).loc[("cr", "coupon")]
    assert row.decision == "better" and row.significant


def test_markdown_shows_verdict_srm_and_every_comparison(report):
    md = report.to_markdown()
    assert md.startswith("## Experiment `checkout_q3`")
    assert "Analysed 2024-07-01 06:00 UTC." in md
    assert f"**Verdict:** {report.verdict}" in md
    assert "sample ratio OK" in md
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 4  # header + rows
    cr = report.result("cr", "coupon")
    coupon_row = next(line for line in table if line.startswith("| cr | coupon vs control"))
    assert f"{cr.rel_lift:+.2%}" in coupon_row and "better" in coupon_row
    assert "CUPED variance reduction: gmv_per_user" in md
    assert "holm across all 4 comparisons" in md


def test_verdict_lists_significant_comparisons(report):
    assert report.verdict.startswith("2 of 4 comparisons significant at alpha = 0.05 after holm correction")
    assert "cr coupon vs control: better" in report.verdict
    assert "gmv_per_user free_shipping vs control: better" in report.verdict
    assert "cr free_shipping" not in report.verdict
    with pytest.raises(ValueError, match="checkout_q3: no result for metric 'ctr' and variant 'coupon'"):
        report.result("ctr", "coupon")
