"""Train the churn model, compare it with the baseline and the champion, register and promote it.

Evaluation is out-of-time: the model learns from snapshots whose label windows all close before the
holdout snapshot, and the holdout is the latest snapshot whose label window is fully observed by
``as_of``. The registered model is exactly the one evaluated.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression

from ops.settings import Settings
from storage.warehouse import connect
from training.churn import EXPERIMENT_NAME, MODEL_NAME
from training.churn.features import (
    FEATURE_COLUMNS,
    FEATURE_SET_VERSION,
    InsufficientHistoryError,
    build_training_set,
    data_span,
    require_history,
)
from training.churn.model_card import render_model_card
from training.factory.mlflow_log import pip_requirements, score_champion, score_reference
from training.factory.training import TrainOutcome, promotion_decision
from training.metrics import binary_metrics
from training.mlflow_setup import ensure_experiment, mlflow_client
from training.plots import evaluation_figure
from training.registry import apply_decision

log = logging.getLogger(__name__)

LABEL = "churned"
HIGHER_IS_BETTER = ("roc_auc", "pr_auc", "lift_top_decile")  # metrics a promotion may be decided on
DEFAULT_LGB_PARAMS: Mapping[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}


@dataclass(frozen=True)
class ChurnTrainConfig:
    """Knobs of a churn training run; the defaults are what the daily DAG uses."""

    min_feature_days: int = 30
    max_train_snapshots: int = 2
    num_boost_round: int = 300
    seed: int = 20240601
    lgb_params: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_LGB_PARAMS))
    promotion_metric: str = "roc_auc"
    promotion_margin: float = 0.0
    max_data_lag_days: int = 3
    model_name: str = MODEL_NAME
    experiment_name: str = EXPERIMENT_NAME

    def __post_init__(self) -> None:
        if self.promotion_metric not in HIGHER_IS_BETTER:
            raise ValueError(f"promotion_metric must be one of {HIGHER_IS_BETTER}: {self.promotion_metric!r}")


@dataclass(frozen=True)
class SnapshotPlan:
    """Which snapshot dates a run trains on and which one it holds out."""

    train: tuple[date, ...]
    holdout: date
    data_first: date | None
    data_last: date | None


@dataclass(frozen=True)
class TrainResult(TrainOutcome):
    """The factory's outcome plus churn's holdout details (metrics of the baseline and the champion)."""

    baseline_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    plan: SnapshotPlan
    n_train: int
    n_holdout: int


def plan_snapshots(settings: Settings, as_of: date, config: ChurnTrainConfig) -> SnapshotPlan:
    """Holdout at the latest fully labelled S; training snapshots one horizon apart before it."""
    horizon = settings.churn_horizon_days
    with connect(settings) as conn:
        span = data_span(conn)
    require_history(span, as_of, config.min_feature_days + 2 * horizon, "churn training with a holdout")
    assert span.first is not None and span.last is not None
    if (as_of - span.last).days > config.max_data_lag_days:
        raise InsufficientHistoryError(
            f"dwd.order_item ends at {span.last}, {(as_of - span.last).days} days before as_of {as_of}: "
            "label windows would look empty (is the DWD load behind?)"
        )
    holdout = as_of + timedelta(days=1 - horizon)
    train = tuple(
        s
        for k in range(1, config.max_train_snapshots + 1)
        if ((s := holdout - timedelta(days=k * horizon)) - span.first).days >= config.min_feature_days
    )
    return SnapshotPlan(train=train, holdout=holdout, data_first=span.first, data_last=span.last)


def _check_labels(frame: pd.DataFrame, what: str) -> None:
    if frame.empty or frame[LABEL].nunique() < 2:
        raise ValueError(f"churn {what} needs churners and non-churners, got {len(frame)} rows")


def fit_baseline(train: pd.DataFrame) -> LogisticRegression:
    """Recency rule as a probability: logistic on log1p(recency_days), monotone in recency."""
    model = LogisticRegression()
    model.fit(np.log1p(train[["recency_days"]].to_numpy()), train[LABEL].to_numpy())
    return model


def baseline_scores(model: LogisticRegression, frame: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(np.log1p(frame[["recency_days"]].to_numpy()))[:, 1]


def train_churn(settings: Settings, as_of: date, config: ChurnTrainConfig | None = None) -> TrainResult:
    """Build point-in-time training data through ``as_of``, fit, evaluate, register and promote."""
    config = config or ChurnTrainConfig()
    started = clock.monotonic()
    horizon = settings.churn_horizon_days
    plan = plan_snapshots(settings, as_of, config)
    with connect(settings) as conn:
        train = pd.concat([build_training_set(conn, s, horizon) for s in plan.train])
        holdout = build_training_set(conn, plan.holdout, horizon)
    _check_labels(train, "training set")
    _check_labels(holdout, "holdout")
    features = list(FEATURE_COLUMNS)
    y_train, y_hold = train[LABEL].to_numpy(), holdout[LABEL].to_numpy()
    read_s = clock.monotonic() - started

    params = {**config.lgb_params, "seed": config.seed}
    booster = lgb.train(
        params, lgb.Dataset(train[features], label=y_train, free_raw_data=True), config.num_boost_round
    )
    model_scores = booster.predict(holdout[features])
    baseline = fit_baseline(train)
    metrics = binary_metrics(y_hold, model_scores)
    baseline_metrics = binary_metrics(y_hold, baseline_scores(baseline, holdout))
    fit_s = clock.monotonic() - started - read_s
    log.info("churn holdout %s: model %s; baseline %s", plan.holdout, _fmt(metrics), _fmt(baseline_metrics))

    client = mlflow_client(settings)
    experiment_id = ensure_experiment(client, settings, config.experiment_name)
    champion = score_champion(client, config.model_name, holdout)
    champion_metrics = None if champion.scores is None else binary_metrics(y_hold, champion.scores)
    decision = promotion_decision(
        config.promotion_metric,
        metrics,
        baseline_metrics,
        champion,
        champion_metrics,
        config.promotion_margin,
    )

    importance = pd.Series(booster.feature_importance("gain"), index=booster.feature_name())
    run_params = {
        **{f"lgb_{k}": v for k, v in params.items()},
        "num_boost_round": config.num_boost_round,
        "horizon_days": horizon,
        "feature_set_version": FEATURE_SET_VERSION,
        "as_of": as_of,
        "train_snapshots": ",".join(str(s) for s in plan.train),
        "holdout_snapshot": plan.holdout,
        "data_first_date": plan.data_first,
        "data_last_date": plan.data_last,
        "min_feature_days": config.min_feature_days,
        "n_train": len(train),
        "n_holdout": len(holdout),
        "baseline": "recency_logistic",
    }
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"churn as_of {as_of}") as run:
        mlflow.set_tags({"mercator.model": "churn", "feature_set_version": FEATURE_SET_VERSION})
        mlflow.log_params(run_params)
        mlflow.log_metrics(
            {
                **metrics,
                **{f"baseline_{k}": v for k, v in baseline_metrics.items()},
                **{f"champion_{k}": v for k, v in (champion_metrics or {}).items()},
                "holdout_churn_rate": float(y_hold.mean()),
                "train_churn_rate": float(y_train.mean()),
            }
        )
        mlflow.log_dict(importance.sort_values(ascending=False).to_dict(), "feature_importance.json")
        mlflow.log_dict(score_reference(booster.predict(train[features])), "score_reference.json")
        scores = {"model": model_scores, "baseline (recency)": baseline_scores(baseline, holdout)}
        if champion.scores is not None:
            scores[champion.note] = champion.scores
        mlflow.log_figure(evaluation_figure(y_hold, scores, importance), "plots/evaluation.png")
        info = mlflow.lightgbm.log_model(
            booster,
            name="model",
            # inputs from every training row, so a feature that can be null is marked optional
            signature=infer_signature(train[features], booster.predict(train[features].head(100))),
            pip_requirements=pip_requirements(),
            registered_model_name=config.model_name,
            metadata={"feature_set_version": FEATURE_SET_VERSION, "horizon_days": horizon},
        )
        version = str(info.registered_model_version)
        aliases = apply_decision(client, config.model_name, version, decision)
        card = render_model_card(
            model_name=f"{config.model_name} v{version}",
            as_of=as_of,
            horizon_days=horizon,
            feature_set_version=FEATURE_SET_VERSION,
            features=features,
            train_snapshots=plan.train,
            holdout_snapshot=plan.holdout,
            data_first=plan.data_first,
            n_train=len(train),
            n_holdout=len(holdout),
            holdout_churn_rate=float(y_hold.mean()),
            metrics={"model": metrics, "baseline": baseline_metrics, "champion": champion_metrics},
            decision=f"**{decision.alias}**: {decision.reason}.",
            params=run_params,
        )
        mlflow.log_text(card, "model_card.md")
        mlflow.set_tags({"promotion": decision.alias, "registered_version": version})
        client.update_model_version(config.model_name, version, description=card)
    log.info(
        "churn run %s: %d train / %d holdout rows; %s v%s is %s (read %.1fs, fit %.1fs, total %.1fs)",
        run.info.run_id,
        len(train),
        len(holdout),
        config.model_name,
        version,
        decision.alias,
        read_s,
        fit_s,
        clock.monotonic() - started,
    )
    return TrainResult(
        run_id=run.info.run_id,
        model_name=config.model_name,
        version=version,
        aliases=aliases,
        promoted=decision.promote,
        reason=decision.reason,
        metrics=metrics,
        n_rows={"train": len(train), "holdout": len(holdout)},
        baseline_metrics=baseline_metrics,
        champion_metrics=champion_metrics,
        plan=plan,
        n_train=len(train),
        n_holdout=len(holdout),
    )


def _fmt(metrics: Mapping[str, float]) -> str:
    return " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
