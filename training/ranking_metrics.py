"""Ranking metrics per query group, computed the way LightGBM's ``ndcg`` metric computes them.

LightGBM (``rank_metric.hpp`` / ``dcg_calculator.cpp``): gain ``label_gain[l]`` (default 2^l - 1),
discount 1 / log2(i + 2), documents sorted by score with a *stable* sort (ties keep input order), and
a query whose labels are all 0 has NDCG 1. ``sklearn.metrics.ndcg_score`` differs on all four counts,
so it must not be used to compare with LightGBM's own evaluation.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd


def default_label_gain(max_label: int = 31) -> np.ndarray:
    return np.array([(1 << i) - 1 for i in range(max_label + 1)], dtype=float)


def _order(scores: np.ndarray) -> np.ndarray:
    """Descending by score, ties in input order (LightGBM's std::stable_sort)."""
    return np.argsort(-scores, kind="stable")


def _dcg_at(gains: np.ndarray, k: int) -> float:
    top = gains[:k]
    return float((top / np.log2(np.arange(len(top)) + 2.0)).sum())


def query_ndcg(labels: np.ndarray, scores: np.ndarray, k: int, label_gain: np.ndarray) -> float:
    """NDCG@k of one query; 1.0 when no document is relevant (LightGBM's convention)."""
    gains = label_gain[np.asarray(labels, dtype=int)]
    ideal = _dcg_at(np.sort(gains)[::-1], k)
    if ideal <= 0:
        return 1.0
    return _dcg_at(gains[_order(np.asarray(scores, dtype=float))], k) / ideal


def group_bounds(group_sizes: Sequence[int]) -> np.ndarray:
    return np.r_[0, np.cumsum(np.asarray(group_sizes, dtype=int))]


def mean_ndcg(
    labels: np.ndarray,
    scores: np.ndarray,
    group_sizes: Sequence[int],
    k: int,
    label_gain: np.ndarray | None = None,
) -> float:
    """Mean NDCG@k over the query groups (rows of one group contiguous, in ``group_sizes`` order)."""
    gain = default_label_gain() if label_gain is None else np.asarray(label_gain, dtype=float)
    bounds = group_bounds(group_sizes)
    values = [query_ndcg(labels[a:b], scores[a:b], k, gain) for a, b in itertools.pairwise(bounds)]
    return float(np.mean(values)) if values else float("nan")


def mean_recall_at(relevant: np.ndarray, scores: np.ndarray, group_sizes: Sequence[int], k: int) -> float:
    """Share of each group's relevant rows found in its top k, averaged over groups holding any."""
    bounds = group_bounds(group_sizes)
    values = []
    for a, b in itertools.pairwise(bounds):
        rel = np.asarray(relevant[a:b], dtype=bool)
        if rel.any():
            values.append(rel[_order(scores[a:b])][:k].sum() / rel.sum())
    return float(np.mean(values)) if values else float("nan")


def mean_average_precision(relevant: np.ndarray, scores: np.ndarray, group_sizes: Sequence[int]) -> float:
    """MAP: average precision at each relevant row's position, averaged over groups holding any."""
    bounds = group_bounds(group_sizes)
    values = []
    for a, b in itertools.pairwise(bounds):
        rel = np.asarray(relevant[a:b], dtype=bool)[_order(scores[a:b])]
        if rel.any():
            hits = np.cumsum(rel)
            values.append(float((hits[rel] / (np.flatnonzero(rel) + 1)).mean()))
    return float(np.mean(values)) if values else float("nan")


def lift_curve(
    relevant: np.ndarray, scores: np.ndarray, group_sizes: Sequence[int], shares: Sequence[float]
) -> pd.Series:
    """Share of all true breakouts captured in each group's top ``share`` of rows (the lift curve)."""
    bounds = group_bounds(group_sizes)
    total = max(int(np.asarray(relevant, dtype=bool).sum()), 1)
    captured = []
    for share in shares:
        hits = 0
        for a, b in itertools.pairwise(bounds):
            top = max(int(np.ceil(share * (b - a))), 1)
            hits += int(np.asarray(relevant[a:b], dtype=bool)[_order(scores[a:b])][:top].sum())
        captured.append(hits / total)
    return pd.Series(captured, index=list(shares), name="captured_share")


def ranking_metrics(
    labels: np.ndarray,
    scores: np.ndarray,
    group_sizes: Sequence[int],
    relevant_from: int = 1,
    recall_k: int = 10,
    lift_share: float = 0.1,
) -> dict[str, float]:
    """NDCG@5/10, recall@k, MAP and the share of breakouts captured in the top ``lift_share``."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    relevant = labels >= relevant_from
    return {
        "ndcg_at_5": mean_ndcg(labels, scores, group_sizes, 5),
        "ndcg_at_10": mean_ndcg(labels, scores, group_sizes, 10),
        f"recall_at_{recall_k}": mean_recall_at(relevant, scores, group_sizes, recall_k),
        "map": mean_average_precision(relevant, scores, group_sizes),
        f"captured_top_{round(lift_share * 100)}pct": float(
            lift_curve(relevant, scores, group_sizes, [lift_share]).iloc[0]
        ),
    }
