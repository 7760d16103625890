"""The daily DAG parses, has no cycles, and every task can retry."""

from __future__ import annotations

import os
from itertools import pairwise
from pathlib import Path

import pytest

from ops.settings import REPO_ROOT

EXPECTED_ORDER = [
    "ingest_orders",
    "build_dwd",
    "validate_dwd",
    "load_dwd",
    "dbt.dws",
    "dbt.ads",
    "train_churn",
    "score_churn",
]
ORDERS_TO_DWD = EXPECTED_ORDER[:4]


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory):
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "mercator_daily" in dagbag.dag_ids


def test_daily_dag_shape(dagbag):
    dag = dagbag.dags["mercator_daily"]
    from airflow.timetables.interval import CronDataIntervalTimetable

    assert isinstance(dag.timetable, CronDataIntervalTimetable), "tasks read the data interval"
    assert dag.catchup is False
    main_chain = [task.task_id for task in dag.topological_sort() if task.task_id in EXPECTED_ORDER]
    assert main_chain == EXPECTED_ORDER
    for upstream, downstream in pairwise(EXPECTED_ORDER):
        assert downstream in dag.get_task(upstream).downstream_task_ids


def test_every_task_retries(dagbag):
    dag = dagbag.dags["mercator_daily"]
    for task in dag.tasks:
        assert task.retries >= 1, f"{task.task_id} has no retries"


def test_dag_files_import_nothing_heavy():
    """Heavy libraries are imported inside tasks so the DAG processor parses quickly."""
    source = Path(REPO_ROOT / "dags" / "mercator_daily.py").read_text()
    header = source.split("@dag(")[0]
    for heavy in ("pyspark", "great_expectations", "mlflow", "lightgbm", "dbt"):
        assert f"import {heavy}" not in header and f"from {heavy}" not in header


def test_each_source_has_its_own_task_in_its_api_pool(dagbag):
    from connectors.registry import SOURCES, api_pool

    dag = dagbag.dags["mercator_daily"]
    assert dag.get_task("ingest_orders").pool == api_pool("orders") == "api_orders"
    others = [s for s in SOURCES if s != "orders"]
    assert others, "the registry lists sources beside orders"
    joined = dag.get_task("ingest_source")
    for source in others:
        ingest = dag.get_task(f"ingest_{source}")
        assert ingest.pool == api_pool(source) == f"api_{source}"
        assert ingest.pool_slots == 1 and ingest.retries >= 1
        assert tuple(ingest.op_args) == (source,)  # the task lands the source its pool is named after
        assert ingest.downstream_task_ids == {"ingest_source"}
        assert not ingest.get_flat_relative_ids(upstream=False) & set(ORDERS_TO_DWD), (
            "a slow source never holds back the orders' way into DWD"
        )
    assert joined.upstream_task_ids == {f"ingest_{s}" for s in others}
    pools = [dag.get_task(f"ingest_{source}").pool for source in SOURCES]
    assert len(set(pools)) == len(SOURCES), "one pool per API, not shared between two APIs"


def test_source_dwd_waits_for_every_source_and_feeds_the_marts(dagbag):
    dag = dagbag.dags["mercator_daily"]
    assert "ingest_source" in dag.get_task("build_source_dwd").upstream_task_ids
    # the source entities are gated before they are loaded, and dbt waits for both DWD loads
    assert {"build_source_dwd", "validate_source_dwd"} <= dag.get_task("load_source_dwd").upstream_task_ids
    assert {"load_dwd", "load_source_dwd"} <= dag.get_task("dbt.dws").upstream_task_ids
    analysis = dag.get_task("analyze_experiments")
    assert {"load_source_dwd", "load_dwd"} <= analysis.upstream_task_ids
