"""``mercator up`` creates one Airflow pool per source API, the pools the daily DAG's ingest tasks use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from connectors.registry import API_POOL_SLOTS, SOURCES, api_pool
from ops.environment import child_env
from ops.settings import Settings
from ops.stack import migrate_airflow


def _pools(settings: Settings) -> dict[str, int]:
    airflow = str(Path(sys.executable).parent / "airflow")
    listed = subprocess.run(
        [airflow, "pools", "list", "--output", "json"],
        env=child_env(settings),
        capture_output=True,
        text=True,
        check=True,
    )
    return {row["pool"]: int(row["slots"]) for row in json.loads(listed.stdout)}


def test_stack_setup_creates_one_single_slot_pool_per_api(settings: Settings, tmp_path: Path):
    stack = settings.model_copy(update={"home": tmp_path / "home"})  # own AIRFLOW_HOME, the test's Postgres

    migrate_airflow(stack)

    pools = _pools(stack)
    assert {api_pool(s): API_POOL_SLOTS for s in SOURCES}.items() <= pools.items()
    assert API_POOL_SLOTS == 1  # one task per API at a time: the client's budget is per process
    markers = list(stack.airflow_home.glob(".migrated-*"))
    assert len(markers) == 1
    migrate_airflow(stack)  # a second `mercator up` changes nothing
    assert list(stack.airflow_home.glob(".migrated-*")) == markers
