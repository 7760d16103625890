"""What ``mercator models`` prints: champion and challenger per model with their metrics, and a table
of a model's latest runs for ``mercator models compare``."""

from __future__ import annotations

import pandas as pd
from mlflow import MlflowClient

from training.models import MODELS, model_entry
from training.registry import CHALLENGER, CHAMPION, version_by_alias

_SHOWN = ("ndcg_at_10", "baseline_ndcg_at_10", "oracle_ndcg_at_10", "champion_ndcg_at_10", "roc_auc",
          "baseline_roc_auc", "champion_roc_auc", "pr_auc")  # fmt: skip


def aliases_board(client: MlflowClient) -> pd.DataFrame:
    """One row per model and alias (champion, challenger) that exists."""
    rows = []
    for short, entry in MODELS.items():
        for alias in (CHAMPION, CHALLENGER):
            version = version_by_alias(client, entry.registered_name, alias)
            if version is None:
                continue
            metrics = client.get_run(version.run_id).data.metrics
            rows.append({"model": short, "alias": alias, "version": version.version,
                         **{k: round(v, 4) for k, v in metrics.items() if k in _SHOWN}})  # fmt: skip
    return pd.DataFrame(rows)


def compare_runs(client: MlflowClient, model: str, last: int) -> pd.DataFrame:
    """The latest ``last`` runs of a model's experiment: as_of, version, decision and the key metrics."""
    entry = model_entry(model)
    experiment = client.get_experiment_by_name(entry.experiment)
    if experiment is None:
        return pd.DataFrame()
    runs = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=last
    )
    return pd.DataFrame(
        [
            {
                "run": run.info.run_id[:8],
                "as_of": run.data.params.get("as_of"),
                "version": run.data.tags.get("registered_version"),
                "promotion": run.data.tags.get("promotion"),
                **{k: round(v, 4) for k, v in run.data.metrics.items() if k in _SHOWN},
            }
            for run in runs
        ]
    )
