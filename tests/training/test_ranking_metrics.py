"""Ranking metrics: NDCG exactly as LightGBM computes it, recall@k, MAP, the lift curve."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from training.ranking_metrics import lift_curve, mean_average_precision, mean_ndcg, mean_recall_at


def test_ndcg_equals_lightgbms_own_evaluation() -> None:
    rng = np.random.default_rng(3)
    sizes = rng.integers(5, 40, size=60)
    x = rng.normal(size=(sizes.sum(), 4))
    labels = np.clip(np.round(x[:, 0] + rng.normal(size=len(x))), 0, 3).astype(int)
    labels[: sizes[0]] = 0  # one query with no relevant document
    x[:, 1] = np.round(x[:, 1])  # ties in a strong feature: ties in scores
    data = lgb.Dataset(x, labels, group=sizes)
    recorded: dict = {}
    params = {"objective": "lambdarank", "metric": "ndcg", "eval_at": [1, 5, 10], "verbosity": -1,
              "num_leaves": 4, "num_threads": 1}  # fmt: skip
    booster = lgb.train(params, data, 5, valid_sets=[data], valid_names=["train"],
                        callbacks=[lgb.record_evaluation(recorded)])  # fmt: skip
    scores = booster.predict(x)
    for k in (1, 5, 10):
        assert mean_ndcg(labels, scores, sizes, k) == pytest.approx(
            recorded["train"][f"ndcg@{k}"][-1], abs=1e-9
        )


def test_conventions_that_sklearn_does_not_share() -> None:
    zero = np.zeros(4, dtype=int)
    assert mean_ndcg(zero, np.arange(4.0), [4], 3) == 1.0  # all-zero query counts as 1 (sklearn: 0)
    labels, tied = np.array([0, 2]), np.array([1.0, 1.0])
    # stable sort: the tie keeps input order, so the relevant second row is ranked second
    assert mean_ndcg(labels, tied, [2], 2) == pytest.approx((3 / np.log2(3)) / 3)
    assert ndcg_score([labels], [tied], k=2) != pytest.approx(mean_ndcg(labels, tied, [2], 2))


def test_recall_map_and_lift_by_hand() -> None:
    relevant = np.array([1, 0, 0, 1, 0, 1, 0, 0], dtype=bool)
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.9, 0.1, 0.5, 0.4])
    sizes = [4, 4]  # group 1 ranks rows 0,1,3,2; group 2 ranks rows 4,6,7,5
    assert mean_recall_at(relevant, scores, sizes, 2) == pytest.approx((1 / 2 + 0) / 2)
    assert mean_average_precision(relevant, scores, sizes) == pytest.approx(((1 + 2 / 3) / 2 + 1 / 4) / 2)
    curve = lift_curve(relevant, scores, sizes, [0.25, 1.0])
    assert list(curve) == pytest.approx([1 / 3, 1.0])
