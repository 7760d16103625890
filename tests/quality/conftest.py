"""Per-test homes and lakes for the quality gates; one real sandbox day landed and built, shared per run."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from connectors.registry import SOURCES
from ops.quality.gates import validate_dwd
from ops.settings import REPO_ROOT, Settings
from spark_jobs.registry import FLAT_ENTITIES
from tests.spark_jobs.entity_lake import land_sandbox_day

DS = date(2025, 11, 5)  # a CRM send day: every source has records
SEED = 23


@pytest.fixture
def gate_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The session's Postgres with this test's own home (data docs) and lake."""
    return settings.model_copy(
        update={"home": tmp_path / "home", "lake_uri_override": (tmp_path / "lake").as_uri()}
    )


@pytest.fixture(scope="session")
def sandbox_day(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Every source's day ``DS`` landed into ODS by the real connectors from the real sandbox."""
    root = tmp_path_factory.mktemp("quality-sandbox")
    landed = land_sandbox_day(settings, root / "lake", SOURCES, SEED, DS)
    return landed.model_copy(update={"home": root / "home"})


@pytest.fixture(scope="module")
def dag(tmp_path_factory: pytest.TempPathFactory):
    """The parsed ``mercator_daily`` DAG (its gate tasks' callables run against a test's lake)."""
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags["mercator_daily"]


def gate_dwd(
    settings: Settings, ds: date, built: dict | None = None, entities: Sequence[str] = FLAT_ENTITIES
) -> dict:
    """The DWD gate for day ``ds`` on ``entities``, plus the partitions ``built`` says were rewritten."""
    return validate_dwd(settings, ds, ds, {e: (built or {}).get(e, {"days": []}) for e in entities})
