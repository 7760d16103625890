"""One MLflow 3 run per training: params, a LoggedModel with signature and input example, metrics logged
on the model, PNG plots, the model card, registration and the promotion decision (DESIGN.md §7)."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mlflow import MlflowClient
from mlflow.models import infer_signature

from training.registry import CHAMPION, PromotionDecision, apply_decision, version_by_alias


def pip_requirements() -> list[str]:
    """Pinned runtime requirements: passing them skips MLflow's slow environment inference."""
    return [f"{pkg}=={importlib.metadata.version(pkg)}" for pkg in ("lightgbm", "numpy", "pandas")]


def score_reference(scores: np.ndarray, bins: int = 10) -> dict[str, list[float]]:
    """Training-score decile edges, the reference the monitor's PSI compares each day against."""
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, bins + 1)))
    counts = np.histogram(scores, bins=np.r_[-np.inf, edges[1:-1], np.inf])[0]
    return {"edges": edges[1:-1].tolist(), "shares": (counts / max(counts.sum(), 1)).tolist()}


@dataclass(frozen=True)
class ChampionOnHoldout:
    """The current champion scored on this run's test rows (``scores`` None when it cannot be)."""

    version: str | None
    scores: np.ndarray | None
    note: str


def score_champion(client: MlflowClient, model_name: str, frame: pd.DataFrame) -> ChampionOnHoldout:
    """Score the current champion on the same rows the candidate is judged on."""
    champion = version_by_alias(client, model_name, CHAMPION)
    if champion is None:
        return ChampionOnHoldout(None, None, "no champion yet")
    version = str(champion.version)
    booster = mlflow.lightgbm.load_model(f"models:/{model_name}/{version}")
    missing = sorted(set(booster.feature_name()) - set(frame.columns))
    if missing:
        return ChampionOnHoldout(
            version, None, f"champion v{version} needs features {missing} this run lacks"
        )
    return ChampionOnHoldout(version, booster.predict(frame[booster.feature_name()]), f"champion v{version}")


def flat_metrics(evaluations: Mapping[str, Mapping[str, float] | None]) -> dict[str, float]:
    """``{"model": {...}, "baseline": {...}}`` -> model metrics bare, the others prefixed."""
    out: dict[str, float] = {}
    for name, values in evaluations.items():
        for key, value in (values or {}).items():
            out[key if name == "model" else f"{name}_{key}"] = float(value)
    return out


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    model_id: str
    version: str
    aliases: tuple[str, ...]


def log_training_run(
    *,
    client: MlflowClient,
    experiment_id: str,
    model_name: str,
    run_name: str,
    tags: Mapping[str, str],
    params: Mapping[str, Any],
    booster: lgb.Booster,
    train_features: pd.DataFrame,
    metrics: Mapping[str, float],
    figures: Mapping[str, Figure],
    artifacts: Mapping[str, Any],
    decision: PromotionDecision,
    card: Callable[[str], str],
    metadata: Mapping[str, Any],
) -> LoggedRun:
    """Log, register and promote one candidate; ``card(version)`` renders the model card."""
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        mlflow.set_tags(dict(tags))
        mlflow.log_params(dict(params))
        example = train_features.head(5)
        info = mlflow.lightgbm.log_model(
            booster,
            name="model",
            # inputs from every training row, so a feature that can be null is marked optional
            signature=infer_signature(train_features, booster.predict(train_features.head(100))),
            input_example=example,
            pip_requirements=pip_requirements(),
            registered_model_name=model_name,
            metadata=dict(metadata),
        )
        mlflow.log_metrics(dict(metrics), model_id=info.model_id)
        for path, figure in figures.items():
            mlflow.log_figure(figure, path)
        for path, value in artifacts.items():
            mlflow.log_dict(value, path)
        version = str(info.registered_model_version)
        aliases = apply_decision(client, model_name, version, decision)
        text = card(version)
        mlflow.log_text(text, "model_card.md")
        mlflow.set_tags({"promotion": decision.alias, "promotion_reason": decision.reason})
        mlflow.set_tags({"registered_version": version})
        client.update_model_version(model_name, version, description=text)
    return LoggedRun(run.info.run_id, info.model_id, version, aliases)
