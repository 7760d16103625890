"""The ranker's training and evaluation path on LightGBM's own lambdarank example (rank.train/rank.test
with their .query files, the example's train.conf): NDCG@1/3/5 as LightGBM 4.7 measures them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_svmlight_file

from tests.conftest import DATASETS
from training.ranker.train import fit_lambdarank
from training.ranking_metrics import mean_ndcg

EXAMPLE = DATASETS / "lightgbm_lambdarank"
TRAIN_CONF = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [1, 3, 5],
    "num_leaves": 31,
    "learning_rate": 0.1,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "min_data_in_leaf": 50,
    "min_sum_hessian_in_leaf": 5.0,
    "max_bin": 255,
    "seed": 0,
    "num_threads": 2,
    "verbosity": -1,
}
EXPECTED = {1: 0.6038, 3: 0.6299, 5: 0.6696}  # measured independently with lightgbm 4.7.0, 2 threads


def _load(name: str):
    x, y = load_svmlight_file(str(EXAMPLE / name), n_features=300)
    return x, y.astype(int), np.loadtxt(EXAMPLE / f"{name}.query", dtype=int)


def test_lightgbm_example_ndcg_matches_the_reference() -> None:
    train, test = _load("rank.train"), _load("rank.test")
    booster = fit_lambdarank(TRAIN_CONF, 100, train)
    scores = booster.predict(test[0])
    ours = {k: mean_ndcg(test[1], scores, test[2], k) for k in EXPECTED}
    print("\nLightGBM example NDCG@1/3/5:", {k: round(v, 4) for k, v in ours.items()})
    for k, expected in EXPECTED.items():
        assert ours[k] == pytest.approx(expected, abs=0.01), k
