"""The models the factory trains and scores, by the short name the CLI and the DAGs use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ops.settings import Settings
from training.factory.training import TrainOutcome


@dataclass(frozen=True)
class ModelEntry:
    registered_name: str
    experiment: str
    promotion_metric: str
    train: Callable[[Settings, date, tuple[str, ...] | None], TrainOutcome]
    score: Callable[[Settings, date], int]


def _train_churn(settings: Settings, as_of: date, source: tuple[str, ...] | None) -> TrainOutcome:
    from training.churn.train import train_churn

    if source:
        raise ValueError("the churn model reads every marketplace; --source applies to the ranker only")
    return train_churn(settings, as_of)


def _score_churn(settings: Settings, as_of: date) -> int:
    from training.churn.score import score_churn

    return score_churn(settings, as_of)


def _train_ranker(settings: Settings, as_of: date, source: tuple[str, ...] | None) -> TrainOutcome:
    from training.ranker.train import train_ranker

    return train_ranker(settings, as_of, marketplaces=source)


def _score_ranker(settings: Settings, as_of: date) -> int:
    from training.ranker.score import score_ranker

    return score_ranker(settings, as_of)


MODELS: dict[str, ModelEntry] = {
    "churn": ModelEntry("mercator_churn", "mercator-churn", "roc_auc", _train_churn, _score_churn),
    "ranker": ModelEntry(
        "mercator_asin_breakout", "mercator-asin-breakout", "ndcg_at_10", _train_ranker, _score_ranker
    ),
}


def model_entry(name: str) -> ModelEntry:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {sorted(MODELS)}") from None
