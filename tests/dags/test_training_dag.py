"""The training DAG parses, retrains every factory model weekly, and holds no scoring or ingestion."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ops.settings import REPO_ROOT
from training.models import MODELS


@pytest.fixture(scope="module")
def dag(tmp_path_factory: pytest.TempPathFactory):
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "mercator_training.py"))
    assert bag.import_errors == {}
    return bag.dags["mercator_training"]


def test_training_dag_trains_every_model_weekly(dag) -> None:
    from airflow.timetables.interval import CronDataIntervalTimetable

    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.summary == "0 3 * * 1"  # Mondays 03:00 UTC
    assert dag.catchup is False and dag.max_active_runs == 1
    assert sorted(t.task_id for t in dag.tasks) == sorted(f"train_{m}" for m in MODELS)
    assert all(t.retries >= 1 for t in dag.tasks)


def test_training_dag_file_imports_nothing_heavy() -> None:
    source = Path(REPO_ROOT / "dags" / "mercator_training.py").read_text()
    header = source.split("def mercator_training")[0]
    for heavy in ("lightgbm", "mlflow", "pandas", "training."):
        assert heavy not in header, heavy
