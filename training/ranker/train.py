"""Train the breakout ranker, compare it with the baseline, the oracle and the champion, register, promote.

Evaluation is out-of-time (training/factory/splits.py): early stopping watches validation NDCG, and the
promotion decision uses the test snapshots only, on which the current champion is scored again.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from ops.settings import Settings
from storage.warehouse import connect
from training.factory.mlflow_log import flat_metrics, log_training_run, score_champion, score_reference
from training.factory.splits import SplitPlan, plan_splits
from training.factory.training import TrainOutcome, change_history, promotion_decision
from training.mlflow_setup import ensure_experiment, mlflow_client
from training.plots import ranking_figure
from training.ranker import EXPERIMENT_NAME, MODEL_NAME
from training.ranker.data import data_span, load_history
from training.ranker.dataset import group_sizes, ranking_set
from training.ranker.features import FEATURE_COLUMNS, FEATURE_SET_VERSION, LOOKBACK_DAYS
from training.ranker.model_card import render_model_card
from training.ranker.oracle import oracle_scores, true_grades
from training.ranking_metrics import mean_ndcg, ranking_metrics

log = logging.getLogger(__name__)

DEFAULT_LGB_PARAMS: Mapping[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambdarank_truncation_level": 20,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}


@dataclass(frozen=True)
class RankerConfig:
    """Every knob of a ranker run; the defaults are what the training DAG uses."""

    horizon_days: int = 14
    step_days: int = 7
    n_train: int = 6
    n_valid: int = 2
    n_test: int = 2
    grade_quantiles: tuple[float, ...] = (0.85, 0.95, 0.99)
    num_boost_round: int = 500
    early_stopping_rounds: int = 50
    seed: int = 20240601
    lgb_params: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_LGB_PARAMS))
    promotion_metric: str = "ndcg_at_10"
    promotion_margin: float = 0.0
    max_data_lag_days: int = 3
    oracle: bool | None = None  # None: on when the marketplace API is the sandbox
    model_name: str = MODEL_NAME
    experiment_name: str = EXPERIMENT_NAME


def plan(settings: Settings, as_of: date, config: RankerConfig) -> SplitPlan:
    with connect(settings) as conn:
        first, last = data_span(conn)
    return plan_splits(
        as_of=as_of,
        data_first=first,
        data_last=last,
        horizon_days=config.horizon_days,
        lookback_days=LOOKBACK_DAYS,
        step_days=config.step_days,
        n_train=config.n_train,
        n_valid=config.n_valid,
        n_test=config.n_test,
        max_data_lag_days=config.max_data_lag_days,
        what="the breakout ranker",
    )


def build_sets(
    settings: Settings, splits: SplitPlan, config: RankerConfig, marketplaces: tuple[str, ...] | None
) -> dict[str, pd.DataFrame]:
    """Train / valid / test frames from one read of the history the plan spans."""
    first = splits.train[0] - timedelta(days=LOOKBACK_DAYS - 1)
    last = splits.test[-1] + timedelta(days=config.horizon_days)
    with connect(settings) as conn:
        history = load_history(conn, first, last, marketplaces)
    sets = {
        name: ranking_set(history, snaps, config.horizon_days, config.grade_quantiles)
        for name, snaps in (("train", splits.train), ("valid", splits.valid), ("test", splits.test))
    }
    for name, frame in sets.items():
        if frame.empty or frame["label"].max() == 0:
            raise ValueError(
                f"ranker {name} set has no graded rows ({len(frame)} rows): is dws_asin_daily empty?"
            )
    return sets


def fit_lambdarank(
    params: Mapping[str, Any],
    rounds: int,
    train: tuple[Any, np.ndarray, np.ndarray],
    valid: tuple[Any, np.ndarray, np.ndarray] | None = None,
    early_stopping_rounds: int | None = None,
) -> lgb.Booster:
    """LambdaRank on (features, labels, group sizes); with ``valid``, early stopping on its first metric
    (NDCG at the first ``eval_at``), and the booster keeps only the best rounds."""
    dtrain = lgb.Dataset(train[0], train[1], group=train[2])
    if valid is None:
        return lgb.train(dict(params), dtrain, rounds)
    dvalid = lgb.Dataset(valid[0], valid[1], group=valid[2], reference=dtrain)
    booster = lgb.train(
        dict(params),
        dtrain,
        rounds,
        valid_sets=[dvalid],
        valid_names=["valid"],
        callbacks=[
            lgb.early_stopping(early_stopping_rounds or rounds, first_metric_only=True, verbose=False)
        ],
    )
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))


def fit(sets: dict[str, pd.DataFrame], config: RankerConfig) -> lgb.Booster:
    """The ranker on the training snapshots, early-stopped on the validation snapshots' NDCG@10."""
    features = list(FEATURE_COLUMNS)
    train, valid = sets["train"], sets["valid"]
    return fit_lambdarank(
        {**config.lgb_params, "seed": config.seed},
        config.num_boost_round,
        (train[features], train["label"].to_numpy(), group_sizes(train)),
        (valid[features], valid["label"].to_numpy(), group_sizes(valid)),
        config.early_stopping_rounds,
    )


def _use_oracle(settings: Settings, config: RankerConfig) -> bool:
    return settings.orders_api_url_override is None if config.oracle is None else config.oracle


def train_ranker(
    settings: Settings,
    as_of: date,
    config: RankerConfig | None = None,
    marketplaces: tuple[str, ...] | None = None,
) -> TrainOutcome:
    """Point-in-time sets through ``as_of``, fit, evaluate, register and promote."""
    config = config or RankerConfig()
    started = clock.monotonic()
    splits = plan(settings, as_of, config)
    sets = build_sets(settings, splits, config, marketplaces)
    booster = fit(sets, config)
    features = list(FEATURE_COLUMNS)
    test = sets["test"]
    labels, sizes = test["label"].to_numpy(), group_sizes(test)
    scores = {
        "model": booster.predict(test[features]),
        "baseline": test["baseline_score"].fillna(0).to_numpy(),
    }
    if _use_oracle(settings, config):
        scores["oracle"] = oracle_scores(
            test, settings.sandbox_seed, settings.sandbox_profile, config.horizon_days
        )

    client = mlflow_client(settings)
    experiment_id = ensure_experiment(client, settings, config.experiment_name)
    champion = score_champion(client, config.model_name, test)
    if champion.scores is not None:
        scores[champion.note] = champion.scores
    evaluations = {name: ranking_metrics(labels, s, sizes) for name, s in scores.items()}
    champion_metrics = evaluations.get(champion.note)
    decision = promotion_decision(
        config.promotion_metric, evaluations["model"], evaluations["baseline"], champion, champion_metrics,
        config.promotion_margin,
    )  # fmt: skip
    metrics = flat_metrics({"model": evaluations["model"], "baseline": evaluations["baseline"],
                            "oracle": evaluations.get("oracle"), "champion": champion_metrics})  # fmt: skip
    model = evaluations["model"]
    metrics["lift_ndcg_at_10_vs_baseline"] = model["ndcg_at_10"] / evaluations["baseline"]["ndcg_at_10"] - 1
    if "oracle" in evaluations:
        metrics["share_of_oracle_ndcg_at_10"] = model["ndcg_at_10"] / evaluations["oracle"]["ndcg_at_10"]
        # against the truth's own grades the oracle scores 1 by construction: how far are the others?
        truth = true_grades(scores["oracle"])
        metrics["truth_ndcg_at_10"] = mean_ndcg(truth, scores["model"], sizes, 10)
        metrics["baseline_truth_ndcg_at_10"] = mean_ndcg(truth, scores["baseline"], sizes, 10)
    metrics["best_iteration"] = float(booster.current_iteration())

    importance = pd.Series(booster.feature_importance("gain"), index=booster.feature_name())
    params = {
        **{f"lgb_{k}": v for k, v in config.lgb_params.items()},
        "seed": config.seed,
        "num_boost_round": config.num_boost_round,
        "early_stopping_rounds": config.early_stopping_rounds,
        "horizon_days": config.horizon_days,
        "grade_quantiles": ",".join(map(str, config.grade_quantiles)),
        "feature_set_version": FEATURE_SET_VERSION,
        "as_of": as_of,
        "source": ",".join(marketplaces) if marketplaces else "all marketplaces",
        "promotion_metric": config.promotion_metric,
        "promotion_margin": config.promotion_margin,
        **splits.as_params(),
        **{f"n_{name}": len(frame) for name, frame in sets.items()},
    }
    history = change_history(client, config.model_name)
    logged = log_training_run(
        client=client,
        experiment_id=experiment_id,
        model_name=config.model_name,
        run_name=f"ranker as_of {as_of}",
        tags={"mercator.model": "asin_breakout", "feature_set_version": FEATURE_SET_VERSION},
        params=params,
        booster=booster,
        train_features=sets["train"][features],
        metrics=metrics,
        figures={"plots/ranking.png": ranking_figure(labels, scores, sizes, importance)},
        artifacts={
            "feature_importance.json": importance.sort_values(ascending=False).to_dict(),
            "score_reference.json": score_reference(booster.predict(sets["train"][features])),
        },
        decision=decision,
        card=lambda version: render_model_card(
            title=f"{config.model_name} v{version}",
            params=params,
            features=features,
            n_rows={name: len(frame) for name, frame in sets.items()},
            metrics={name: evaluations.get(name) for name in ("model", "baseline", "oracle")}
            | {"champion": champion_metrics},
            decision=f"**{decision.alias}**: {decision.reason}.",
            history=history,
        ),
        metadata={"feature_set_version": FEATURE_SET_VERSION, "horizon_days": config.horizon_days},
    )
    log.info(
        "ranker run %s: %s v%s is %s (%s) in %.1fs",
        logged.run_id, config.model_name, logged.version, decision.alias, decision.reason,
        clock.monotonic() - started,
    )  # fmt: skip
    return TrainOutcome(
        run_id=logged.run_id,
        model_name=config.model_name,
        version=logged.version,
        aliases=logged.aliases,
        promoted=decision.promote,
        reason=decision.reason,
        metrics=metrics,
        n_rows={name: len(frame) for name, frame in sets.items()},
    )
