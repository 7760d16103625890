"""Environment for child processes (Airflow, dbt, services) derived from one Settings object."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pydantic import SecretStr

from ops.settings import REPO_ROOT, Settings


def _env_value(value: object) -> str:
    """How pydantic-settings reads a value back: secrets revealed, mappings as JSON."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return json.dumps({key: _env_value(item) for key, item in value.items()})
    return str(value)


def settings_env(settings: Settings) -> dict[str, str]:
    """Every setting as ``MERCATOR_<FIELD>`` so a child process rebuilds the same Settings."""
    env: dict[str, str] = {}
    for name, value in settings:
        if value is None:
            continue
        key = "MERCATOR_" + name.removesuffix("_override").removesuffix("_overrides").upper()
        env[key] = _env_value(value)
    return env


def airflow_env(settings: Settings) -> dict[str, str]:
    """Airflow's own configuration for the embedded stack: home, metadata DB, DAG folder."""
    db_url = settings.airflow_db_url
    return {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        # Airflow 3 also opens an async engine; psycopg 3 serves both, so asyncpg is not needed.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": db_url,
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(settings.airflow_home / "logs"),
        "AIRFLOW__API__PORT": str(settings.airflow_ui_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{settings.airflow_ui_port}/execution/",
        "NO_PROXY": "*",
    }


def child_env(settings: Settings) -> dict[str, str]:
    """The current environment plus settings and Airflow config, with the venv's bin first on PATH."""
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, **settings_env(settings), **airflow_env(settings)}
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env
