"""What every model's training returns, its promotion decision and the change history for its card."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlflow import MlflowClient

from training.factory.mlflow_log import ChampionOnHoldout
from training.registry import PromotionDecision, decide_promotion


@dataclass(frozen=True)
class TrainOutcome:
    """The registered version, its aliases, why, and the test metrics (model bare, others prefixed)."""

    run_id: str
    model_name: str
    version: str
    aliases: tuple[str, ...]
    promoted: bool
    reason: str
    metrics: dict[str, float]
    n_rows: dict[str, int]

    def summary(self) -> dict[str, object]:
        return {"model": self.model_name, "version": self.version, "aliases": list(self.aliases),
                "promoted": self.promoted, "reason": self.reason, "metrics": self.metrics}  # fmt: skip


def promotion_decision(
    metric: str,
    candidate: Mapping[str, float],
    baseline: Mapping[str, float],
    champion: ChampionOnHoldout,
    champion_metrics: Mapping[str, float] | None,
    margin: float,
) -> PromotionDecision:
    """The shared rule; a champion that cannot be scored on this run's rows blocks automatic promotion."""
    if champion.version is not None and champion_metrics is None:
        return PromotionDecision(False, f"{champion.note}; compare and promote manually")
    return decide_promotion(
        metric,
        candidate[metric],
        baseline[metric],
        champion_metrics[metric] if champion_metrics else None,
        margin,
    )


def change_history(client: MlflowClient, model_name: str) -> list[str]:
    """One line per earlier version: its number and the promotion decision recorded on it."""
    versions = client.search_model_versions(f"name = '{model_name}'")
    return [
        f"v{v.version}: {v.tags.get('promotion_decision', 'no decision recorded')}"
        for v in sorted(versions, key=lambda v: int(v.version))
    ]
