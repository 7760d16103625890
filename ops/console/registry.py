"""Champion and challenger of every registered model, read from MLflow (never the warehouse)."""

from __future__ import annotations

import httpx
import pandas as pd

ALIASES = ("champion", "challenger")


def unreachable(tracking_uri: str) -> str | None:
    """Why an MLflow tracking server cannot be read, or None (database URIs are tried when read)."""
    if not tracking_uri.startswith(("http://", "https://")):
        return None
    try:
        httpx.get(f"{tracking_uri.rstrip('/')}/health", timeout=2.0).raise_for_status()
    except httpx.HTTPError as err:
        return f"MLflow at {tracking_uri} does not answer ({type(err).__name__}); `make up` starts it"
    return None


def aliased_versions(tracking_uri: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(versions, metrics): one row per model and alias, and one per model and metric with a column
    per alias, so champion and challenger sit side by side."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    versions, metrics = [], []
    for model in client.search_registered_models():
        for alias in ALIASES:
            number = model.aliases.get(alias)
            if number is None:
                continue
            version = client.get_model_version(model.name, number)
            run = client.get_run(version.run_id) if version.run_id else None
            created = pd.Timestamp(version.creation_timestamp, unit="ms", tz="UTC")
            versions.append(
                {"model": model.name, "alias": alias, "version": str(number), "created_at": created}
            )
            for name, value in (run.data.metrics if run else {}).items():
                metrics.append({"model": model.name, "metric": name, "alias": alias, "value": value})
    table = pd.DataFrame(metrics, columns=["model", "metric", "alias", "value"])
    side_by_side = table.pivot_table(index=["model", "metric"], columns="alias", values="value").reset_index()
    side_by_side.columns.name = None
    ordered = ["model", "metric", *(alias for alias in ALIASES if alias in side_by_side.columns)]
    return pd.DataFrame(versions, columns=["model", "alias", "version", "created_at"]), side_by_side[ordered]
