"""Loading ``models:/<name>@champion`` for scoring, refusing features that do not match its signature."""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from training.registry import require_champion


class SignatureMismatchError(ValueError):
    """The feature table does not carry the columns (and types) the champion's signature declares."""


@dataclass(frozen=True)
class ChampionModel:
    """The champion version, its booster and the input columns its signature declares, in order."""

    model_name: str
    version: str
    run_id: str
    booster: lgb.Booster
    inputs: dict[str, str]

    def check(self, features: pd.DataFrame) -> None:
        """Raise naming every missing, unexpected or non-numeric column."""
        missing = [c for c in self.inputs if c not in features.columns]
        extra = sorted(set(features.columns) - set(self.inputs))
        wrong = [
            f"{c} ({features[c].dtype}, signature {kind})"
            for c, kind in self.inputs.items()
            if c in features.columns and not pd.api.types.is_numeric_dtype(features[c])
        ]
        if missing or extra or wrong:
            parts = [f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "",
                     f"wrong type {wrong}" if wrong else ""]  # fmt: skip
            raise SignatureMismatchError(
                f"{self.model_name} v{self.version} refuses to score: the feature table does not match its "
                f"signature: {'; '.join(p for p in parts if p)}"
            )

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        self.check(features)
        return self.booster.predict(features[list(self.inputs)]) if len(features) else np.empty(0)


def load_champion(client: MlflowClient, model_name: str) -> ChampionModel:
    version = require_champion(client, model_name)
    uri = f"models:/{model_name}/{version.version}"
    signature = mlflow.models.get_model_info(uri).signature
    if signature is None:
        raise SignatureMismatchError(f"{model_name} v{version.version} has no signature: refusing to score")
    inputs = {spec.name: str(spec.type) for spec in signature.inputs.inputs}
    return ChampionModel(
        model_name, str(version.version), str(version.run_id), mlflow.lightgbm.load_model(uri), inputs
    )
