"""MLflow wiring in one place: tracking/registry URI from settings, experiments with on-disk artifacts.

Every training and scoring job calls :func:`mlflow_client` first, so the process-wide MLflow state is
set the same way everywhere and nothing else in ``training/`` touches tracking URIs or environment.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urlsplit

import mlflow
from mlflow import MlflowClient
from mlflow.entities import LifecycleStage
from mlflow.exceptions import MlflowException

from ops.settings import Settings
from storage.warehouse import redact

log = logging.getLogger(__name__)

# Async logging would let a run "finish" before its metrics land; a DAG task must fail loudly instead.
# Telemetry is off unless an operator opts in explicitly (the embedded stack makes no outbound calls).
_FORCED_ENV = {
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "MLFLOW_UV_AUTO_DETECT": "false",  # requirements are pinned explicitly; no uv export, no lock copies
    "MLFLOW_LOG_UV_FILES": "false",
}
_SERVER_SCHEMES = ("http", "https", "databricks")
_DEFAULT_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def mlflow_client(settings: Settings) -> MlflowClient:
    """Point MLflow (fluent API and a client) at the tracking/registry store named by settings."""
    os.environ.update(_FORCED_ENV)
    for key, value in _DEFAULT_ENV.items():
        os.environ.setdefault(key, value)
    uri = settings.mlflow_tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    # The URI may carry a password: only the redacted form is ever logged.
    log.info("mlflow tracking and registry at %s", redact(uri) if "://" in uri else uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_artifact_uri(settings: Settings, experiment_name: str) -> str | None:
    """``file://`` URI of an experiment's artifacts under ``settings.mlflow_artifacts_dir``.

    None when the tracking URI is a server: it owns the artifact store, and a path on this worker's
    disk would be wrong for every other reader.
    """
    if urlsplit(settings.mlflow_tracking_uri).scheme in _SERVER_SCHEMES:
        return None
    path = settings.mlflow_artifacts_dir / experiment_name
    path.mkdir(parents=True, exist_ok=True)
    return path.as_uri()


def ensure_experiment(client: MlflowClient, settings: Settings, name: str) -> str:
    """The experiment id for ``name``, creating (or restoring) it with its artifact location."""
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(name, artifact_location=experiment_artifact_uri(settings, name))
        except MlflowException as exc:  # another task created it between our get and create
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            experiment = client.get_experiment_by_name(name)
            assert experiment is not None
    if experiment.lifecycle_stage == LifecycleStage.DELETED:
        log.warning("restoring deleted mlflow experiment %s", name)
        client.restore_experiment(experiment.experiment_id)
    return experiment.experiment_id
