"""Environment for child processes (Airflow, dbt, services) derived from one Settings object.

Two kinds of children: the pipeline runner (``airflow dags test`` and its tasks), which needs the API
tokens and the PII key, and long-running services (sandbox, MLflow UI, Airflow UI), which get a
scrubbed environment with neither: a process another local user can talk to should hold no secret it
does not use.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from ops.settings import REPO_ROOT, Settings, read_or_create_secret

# What a service inherits from the caller's environment: where things are, never what they may open.
_SERVICE_PASSTHROUGH = ("HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
AIRFLOW_ADMIN = "admin"


def _env_value(value: object) -> str:
    """How pydantic-settings reads a value back: secrets revealed, mappings as JSON."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return json.dumps({key: _env_value(item) for key, item in value.items()})
    return str(value)


def _is_secret(value: object) -> bool:
    return isinstance(value, SecretStr) or (
        isinstance(value, dict) and any(isinstance(item, SecretStr) for item in value.values())
    )


def settings_env(settings: Settings, *, include_secrets: bool = True) -> dict[str, str]:
    """Every setting as ``MERCATOR_<FIELD>`` so a child process rebuilds the same Settings
    (without tokens and keys when ``include_secrets`` is false)."""
    env: dict[str, str] = {}
    for name, value in settings:
        if value is None or (not include_secrets and _is_secret(value)):
            continue
        key = "MERCATOR_" + name.removesuffix("_override").removesuffix("_overrides").upper()
        env[key] = _env_value(value)
    return env


def airflow_login(settings: Settings) -> str:
    """The Airflow UI admin password, generated into the secrets folder before any Airflow process
    starts: Airflow's simple auth manager would otherwise generate one and print it into its log."""
    passwords = json.loads(
        read_or_create_secret(
            settings.airflow_passwords_file, lambda: json.dumps({AIRFLOW_ADMIN: secrets.token_urlsafe(18)})
        )
    )
    return passwords[AIRFLOW_ADMIN]


def airflow_env(settings: Settings) -> dict[str, str]:
    """Airflow's own configuration for the embedded stack: home, metadata DB, DAG folder, and a login
    for the UI (never all-admins: any local user, or anyone when bound beyond loopback, could act)."""
    db_url = settings.airflow_db_url
    airflow_login(settings)
    return {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        # Airflow 3 also opens an async engine; psycopg 3 serves both, so asyncpg is not needed.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": db_url,
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{AIRFLOW_ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(settings.airflow_passwords_file),
        "AIRFLOW__API__HOST": settings.bind_host,
        # Signs the UI's login tokens; Airflow's own default is 16 bytes (below HS512's 64).
        "AIRFLOW__API_AUTH__JWT_SECRET": read_or_create_secret(
            settings.secrets_dir / "airflow_jwt_secret", lambda: secrets.token_urlsafe(64)
        ),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(settings.airflow_home / "logs"),
        "AIRFLOW__API__PORT": str(settings.airflow_ui_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{settings.airflow_ui_port}/execution/",
        "NO_PROXY": "*",
    }


def _with_project_paths(env: dict[str, str]) -> dict[str, str]:
    """The venv's bin first on PATH and the repository on PYTHONPATH."""
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", os.defpath)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO_ROOT), env.get("PYTHONPATH"))))
    return env


def child_env(settings: Settings) -> dict[str, str]:
    """For the pipeline runner: the current environment plus settings (secrets included) and Airflow."""
    return _with_project_paths({**os.environ, **settings_env(settings), **airflow_env(settings)})


def service_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """For a long-running service: PATH, locale, HOME, the non-secret settings and ``extra``; nothing
    else from the caller's environment, so no API token, PII key or cloud credential."""
    base = {name: os.environ[name] for name in _SERVICE_PASSTHROUGH if name in os.environ}
    base["PATH"] = os.environ.get("PATH", os.defpath)
    return _with_project_paths({**base, **settings_env(settings, include_secrets=False), **(extra or {})})
