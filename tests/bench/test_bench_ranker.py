"""Benchmark: the ranker's training and scoring paths against bare LightGBM on the same matrix.

* ``ranker_train_vs_raw_lgb_train``: ``training.ranker.train.fit`` (frames -> Datasets, early stopping on
  validation NDCG@10, the booster cut to its best rounds) over ``lgb.train`` given the same arrays, params
  and early stopping (goal <= 1.2).
* ``ranker_score_vs_raw_predict``: rows/s through the MLflow model (saved and loaded by MLflow, the
  signature check of every scoring call) over ``booster.predict`` on the bare array (goal >= 0.8).

The matrix is synthetic (40 + 10 snapshots x 30 groups x 120 ASINs, the feature set's columns) so the
figures measure the code, not the warehouse. The sides take turns going first; the fastest round counts.
"""

from __future__ import annotations

import time
from pathlib import Path

import lightgbm as lgb
import mlflow.lightgbm
import numpy as np
import pandas as pd
import pytest
from mlflow.models import Model, infer_signature

from training.factory.champion import ChampionModel
from training.factory.mlflow_log import pip_requirements
from training.ranker.dataset import group_sizes
from training.ranker.features import FEATURE_COLUMNS, GROUP
from training.ranker.train import RankerConfig, fit

pytestmark = pytest.mark.bench
ROUNDS = 5


def _frame(rng: np.random.Generator, snapshots: int) -> pd.DataFrame:
    groups, size = 30, 120
    n = snapshots * groups * size
    x = rng.normal(size=(n, len(FEATURE_COLUMNS)))
    signal = x[:, 0] + 0.5 * x[:, 1] + rng.normal(size=n)
    frame = pd.DataFrame(x, columns=list(FEATURE_COLUMNS))
    frame["marketplace_id"] = "M"
    frame["category"] = np.repeat(np.arange(snapshots * groups) % groups, size).astype(str)
    frame["snapshot_date"] = np.repeat(np.arange(snapshots * groups) // groups, size)
    frame["label"] = np.digitize(signal, np.quantile(signal, [0.85, 0.95, 0.99]))
    return frame.sort_values(list(GROUP), kind="stable").reset_index(drop=True)


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_bench_ranker_training_and_scoring(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    sets = {"train": _frame(rng, 40), "valid": _frame(rng, 10)}
    config = RankerConfig(num_boost_round=60, early_stopping_rounds=10)
    features = list(FEATURE_COLUMNS)
    params = {**config.lgb_params, "seed": config.seed}

    def raw_train() -> lgb.Booster:
        train, valid = sets["train"], sets["valid"]
        dtrain = lgb.Dataset(train[features].to_numpy(), train["label"].to_numpy(), group=group_sizes(train))
        dvalid = lgb.Dataset(valid[features].to_numpy(), valid["label"].to_numpy(), group=group_sizes(valid))
        callbacks = [lgb.early_stopping(config.early_stopping_rounds, first_metric_only=True, verbose=False)]
        return lgb.train(params, dtrain, config.num_boost_round, valid_sets=[dvalid], callbacks=callbacks)

    ours_s, raw_s = [], []
    for turn in range(ROUNDS):  # taking turns going first: the neighbours' load moves under both alike
        pair = [(ours_s, lambda: fit(sets, config)), (raw_s, raw_train)]
        for times, fn in pair if turn % 2 == 0 else pair[::-1]:
            times.append(_seconds(fn))
    rows = len(sets["train"])
    print(f"\nbench: ranker_train_rows: {rows} rows")
    print(f"bench: ranker_train: {min(ours_s):.2f} s")
    print(f"bench: raw_lgb_train: {min(raw_s):.2f} s")
    train_ratio = min(ours_s) / min(raw_s)
    print(f"ratio: ranker_train_vs_raw_lgb_train: {train_ratio:.3f} (goal <= 1.2)")

    booster = fit(sets, config)
    path = tmp_path / "model"
    sample = sets["train"][features]
    signature = infer_signature(sample, booster.predict(sample.head(100)))
    mlflow.lightgbm.save_model(booster, path, signature=signature, pip_requirements=pip_requirements())
    signature = Model.load(path).signature
    assert signature is not None
    model = ChampionModel(
        "bench", "1", "-", mlflow.lightgbm.load_model(str(path)),
        {spec.name: str(spec.type) for spec in signature.inputs.inputs},
    )  # fmt: skip
    score_frame = _frame(rng, 40)[features]
    matrix = score_frame.to_numpy()
    assert np.allclose(model.predict(score_frame), booster.predict(matrix))
    ours, raw = [], []
    for turn in range(ROUNDS):
        pair = [(ours, lambda: model.predict(score_frame)), (raw, lambda: booster.predict(matrix))]
        for times, fn in pair if turn % 2 == 0 else pair[::-1]:
            times.append(_seconds(fn))
    ours_rate, raw_rate = len(matrix) / min(ours), len(matrix) / min(raw)
    print(f"bench: ranker_score_mlflow_model: {ours_rate:,.0f} rows/s")
    print(f"bench: raw_booster_predict: {raw_rate:,.0f} rows/s")
    score_ratio = ours_rate / raw_rate
    print(f"ratio: ranker_score_vs_raw_predict: {score_ratio:.3f} (goal >= 0.8)")
    assert train_ratio <= 1.2 and score_ratio >= 0.8
