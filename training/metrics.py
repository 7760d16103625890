"""Evaluation metrics for binary scores, shared by every classifier and its baselines.

All functions take plain arrays so a model, a rule baseline and the current champion are measured the
same way on the same holdout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width probability bins: sum of |observed rate - mean score| by bin weight."""
    y, p = np.asarray(y, dtype=float), np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(idx, minlength=bins)
    gap = np.abs(np.bincount(idx, weights=y, minlength=bins) - np.bincount(idx, weights=p, minlength=bins))
    return float(gap.sum() / max(counts.sum(), 1))


def lift_at(y: np.ndarray, score: np.ndarray, fraction: float = 0.1) -> float:
    """Positive rate in the top ``fraction`` by score over the overall rate.

    Ties at the cut-off count fractionally (the expectation under random tie-breaking), so a constant
    score has lift 1 whatever the row order.
    """
    y, score = np.asarray(y, dtype=float), np.asarray(score, dtype=float)
    base = y.mean()
    if len(y) == 0 or base == 0:
        return float("nan")
    k = max(int(np.ceil(fraction * len(y))), 1)
    cutoff = np.sort(score)[::-1][k - 1]
    above, at = score > cutoff, score == cutoff
    positives = y[above].sum() + (k - above.sum()) * y[at].mean()
    return float(positives / k / base)


def binary_metrics(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """ROC-AUC, PR-AUC, ECE (10 bins) and lift in the top decile."""
    return {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "ece": expected_calibration_error(y, score),
        "lift_top_decile": lift_at(y, score, 0.1),
    }


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean score, observed rate and count per non-empty probability bin (the reliability curve)."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.clip(np.asarray(p, dtype=float), 0, 1)})
    frame["bin"] = np.minimum((frame["p"] * bins).astype(int), bins - 1)
    return frame.groupby("bin").agg(mean_score=("p", "mean"), observed=("y", "mean"), n=("y", "size"))


def decile_lift(y: np.ndarray, score: np.ndarray) -> pd.Series:
    """Positive rate per score decile (1 = highest scores) over the overall rate: the lift curve."""
    y, score = np.asarray(y, dtype=float), np.asarray(score, dtype=float)
    order = np.argsort(-score, kind="stable")
    deciles = np.arange(len(y)) * 10 // max(len(y), 1) + 1
    rates = pd.Series(y[order]).groupby(deciles).mean()
    return rates / y.mean()
