"""Evaluation metrics against hand-computed values (these decide promotions, so they must be exact)."""

import numpy as np
import pytest

from training.metrics import binary_metrics, decile_lift, expected_calibration_error, lift_at
from training.registry import decide_promotion


def test_ece_is_weighted_gap_per_bin():
    y = np.array([1, 0, 0, 0, 1, 1])
    p = np.array([0.05, 0.05, 0.05, 0.05, 0.95, 0.95])
    # bin 0: mean p 0.05, rate 0.25 -> gap 0.2 over 4 rows; bin 9: mean p 0.95, rate 1 -> gap 0.05 over 2
    assert expected_calibration_error(y, p) == pytest.approx((4 * 0.2 + 2 * 0.05) / 6)
    assert expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0


def test_lift_top_decile_and_ties():
    y = np.array([1] + [0] * 9 + [1] * 2 + [0] * 8)  # base rate 0.15
    score = np.arange(20, 0, -1, dtype=float)  # first row ranks highest
    assert lift_at(y, score, 0.1) == pytest.approx(0.5 / 0.15)  # top 2: one churner
    assert lift_at(y, np.ones(20), 0.1) == pytest.approx(1.0)  # constant score: no lift, any order


def test_binary_metrics_perfect_and_decile_curve():
    y = np.array([0] * 90 + [1] * 10)
    score = np.linspace(0, 1, 100)
    metrics = binary_metrics(y, score)
    assert metrics["roc_auc"] == pytest.approx(1.0)
    assert metrics["pr_auc"] == pytest.approx(1.0)
    assert metrics["lift_top_decile"] == pytest.approx(10.0)
    curve = decile_lift(y, score)
    assert curve.loc[1] == pytest.approx(10.0) and curve.loc[2:].sum() == 0


def test_promotion_needs_baseline_and_champion_beaten():
    assert decide_promotion("roc_auc", 0.8, 0.7, None).alias == "champion"
    assert decide_promotion("roc_auc", 0.8, 0.7, 0.79).alias == "champion"
    assert decide_promotion("roc_auc", 0.8, 0.7, 0.8).alias == "challenger"  # a tie keeps the champion
    assert decide_promotion("roc_auc", 0.69, 0.7, None).alias == "challenger"
