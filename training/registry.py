"""Champion/challenger promotion shared by every model (DESIGN.md §7).

A new version becomes ``champion`` only when it beats both the baseline and the current champion on
the same holdout; otherwise it is the ``challenger``. Scoring jobs only ever load ``@champion``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"


class NoChampionError(RuntimeError):
    """Raised when a scoring job asks for a champion that was never promoted."""


@dataclass(frozen=True)
class PromotionDecision:
    """Whether the candidate takes the champion alias, and a sentence saying why (for logs and cards)."""

    promote: bool
    reason: str

    @property
    def alias(self) -> str:
        return CHAMPION if self.promote else CHALLENGER


def version_by_alias(client: MlflowClient, model_name: str, alias: str) -> ModelVersion | None:
    """The version holding ``alias``, or None when the model or the alias does not exist."""
    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            return None
        raise


def require_champion(client: MlflowClient, model_name: str) -> ModelVersion:
    """The champion version, or a clear error telling the operator to train first."""
    version = version_by_alias(client, model_name, CHAMPION)
    if version is None:
        raise NoChampionError(
            f"registered model {model_name!r} has no {CHAMPION!r} alias: run training first "
            f"(or promote a version with MlflowClient.set_registered_model_alias)"
        )
    return version


def decide_promotion(
    metric: str, candidate: float, baseline: float, champion: float | None, margin: float = 0.0
) -> PromotionDecision:
    """Champion only if better than the baseline and the current champion on one holdout by ``margin``."""
    need = f" + margin {margin:.4f}" if margin else ""
    if not candidate > baseline + margin:
        return PromotionDecision(
            False, f"{metric} {candidate:.4f} does not beat baseline {baseline:.4f}{need}"
        )
    if champion is None:
        return PromotionDecision(
            True, f"{metric} {candidate:.4f} beats baseline {baseline:.4f}{need}; no champion yet"
        )
    if not candidate > champion + margin:
        return PromotionDecision(
            False,
            f"{metric} {candidate:.4f} beats baseline {baseline:.4f}{need} "
            f"but not champion {champion:.4f}{need}",
        )
    return PromotionDecision(
        True, f"{metric} {candidate:.4f} beats baseline {baseline:.4f} and champion {champion:.4f}{need}"
    )


def apply_decision(
    client: MlflowClient, model_name: str, version: str, decision: PromotionDecision
) -> tuple[str, ...]:
    """Move the decided alias onto ``version``; returns the version's aliases afterwards."""
    client.set_registered_model_alias(model_name, decision.alias, version)
    client.set_model_version_tag(model_name, version, "promotion_decision", decision.reason)
    log.info("%s version %s is now %s: %s", model_name, version, decision.alias, decision.reason)
    return tuple(sorted(client.get_model_version(model_name, version).aliases))
