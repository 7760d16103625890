"""The embedded local stack: Postgres, the sandbox marketplace, and optionally the MLflow and Airflow UIs."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import httpx

from ops import processes
from ops.console.service import console_service
from ops.environment import AIRFLOW_ADMIN, airflow_env, airflow_login, service_env
from ops.processes import Service
from ops.settings import Settings
from storage import embedded_pg
from storage.bootstrap import ANALYST_ROLE, ensure_databases, ensure_warehouse
from storage.secrets import read_passwords

log = logging.getLogger(__name__)

AIRFLOW_DB = "airflow"
MLFLOW_DB = "mlflow"


@dataclass(frozen=True)
class StackStatus:
    name: str
    running: bool
    where: str


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def sandbox_service(settings: Settings) -> Service:
    return Service(
        name="sandbox",
        command=(
            sys.executable,
            "-m",
            "connectors.sandbox",
            "--host",
            settings.bind_host,
            "--port",
            str(settings.sandbox_port),
            "--seed",
            str(settings.sandbox_seed),
            "--profile",
            settings.sandbox_profile,
            "--token-stdin",
        ),
        port=settings.sandbox_port,
        run_dir=settings.home / "run",
        log_dir=settings.logs_dir,
    )


def mlflow_service(settings: Settings) -> Service:
    return Service(
        name="mlflow-ui",
        command=(
            _bin("mlflow"),
            "server",
            "--backend-store-uri",
            settings.mlflow_tracking_uri,
            "--default-artifact-root",
            settings.mlflow_artifacts_dir.as_uri(),
            "--host",
            settings.bind_host,
            "--port",
            str(settings.mlflow_ui_port),
            "--workers",
            "1",
        ),
        port=settings.mlflow_ui_port,
        run_dir=settings.home / "run",
        log_dir=settings.logs_dir,
    )


def airflow_service(settings: Settings) -> Service:
    return Service(
        name="airflow-ui",
        command=(
            _bin("airflow"),
            "api-server",
            "--host",
            settings.bind_host,
            "--port",
            str(settings.airflow_ui_port),
            "--workers",
            "1",
        ),
        port=settings.airflow_ui_port,
        run_dir=settings.home / "run",
        log_dir=settings.logs_dir,
    )


def _sandbox_ready(settings: Settings) -> bool:
    try:
        return httpx.get(f"{settings.orders_api_url}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _airflow(settings: Settings, *args: str) -> None:
    """One Airflow CLI call with the stack's (secret-free) environment; a failure says which call and why."""
    env = service_env(settings, airflow_env(settings))
    result = subprocess.run([_bin("airflow"), *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise processes.ServiceError(
            f"airflow {' '.join(args[:2])} failed:\n{result.stdout[-1500:]}{result.stderr[-1500:]}"
        )


def api_pools() -> dict[str, dict[str, object]]:
    """One Airflow pool per source API (``api_<source>``), in ``airflow pools import`` format."""
    from connectors.registry import API_POOL_SLOTS, SOURCES, api_pool

    return {
        api_pool(source): {
            "slots": API_POOL_SLOTS,
            "description": f"{source} API: one rate budget shared by every DAG run",
            "include_deferred": False,
        }
        for source in SOURCES
    }


def migrate_airflow(settings: Settings) -> None:
    """Migrate Airflow's metadata DB and create the API pools, once per Airflow version and pool set."""
    pools = api_pools()
    digest = hashlib.sha256(json.dumps(pools, sort_keys=True).encode()).hexdigest()[:12]
    # The version comes from package metadata: importing airflow here would configure it for ~/airflow.
    marker = settings.airflow_home / f".migrated-{version('apache-airflow-core')}-pools-{digest}"
    if marker.exists():
        return
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    _airflow(settings, "db", "migrate")
    pools_file = settings.airflow_home / "api_pools.json"
    pools_file.write_text(json.dumps(pools, indent=2, sort_keys=True))
    _airflow(settings, "pools", "import", str(pools_file))
    marker.touch()


def up(settings: Settings, *, with_ui: bool = False) -> list[StackStatus]:
    """Bring the stack up; every step is a no-op when already done, so ``up`` twice is harmless.

    Refuses a public PII key first; the home is its user's alone (0700; under root the Postgres service
    user may pass through). Services get a scrubbed environment; the sandbox reads its token from stdin.
    """
    settings.check_secure()
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.home.chmod(0o700)
    for folder in (settings.logs_dir, settings.mlflow_artifacts_dir, settings.airflow_home):
        folder.mkdir(parents=True, exist_ok=True)
    if settings.warehouse_url_override is None:
        embedded_pg.start(
            settings.pg_data_dir,
            settings.pg_socket_dir,
            settings.pg_port,
            listen=settings.bind_host,
            passfile=settings.pg_passfile,
        )
        ensure_databases(settings, (settings.pg_database, MLFLOW_DB, AIRFLOW_DB))
    ensure_warehouse(settings.warehouse_url)
    migrate_airflow(settings)
    token = settings.orders_api_token.get_secret_value()
    processes.start(
        sandbox_service(settings),
        service_env(settings),
        ready=lambda: _sandbox_ready(settings),
        stdin_secret=token,
    )
    if with_ui:
        processes.start(mlflow_service(settings), service_env(settings), timeout_s=180)
        processes.start(
            airflow_service(settings), service_env(settings, airflow_env(settings)), timeout_s=240
        )
        processes.start(console_service(settings), service_env(settings), timeout_s=120)
    return status(settings)


def credentials(settings: Settings) -> dict[str, str]:
    """What a person needs to get in: the analyst's BI connection string and the Airflow UI login.

    Only for the embedded stack (its passwords are generated into ``settings.secrets_dir``); shown on
    request, never logged.
    """
    password = read_passwords(settings.pg_passfile).get(ANALYST_ROLE)
    if password is None:
        raise processes.ServiceError(
            f"no analyst password in {settings.pg_passfile} yet: run `mercator up` first (it generates them)"
        )
    return {
        "analyst (BI, read-only)": (
            f"postgresql://{ANALYST_ROLE}:{password}@127.0.0.1:{settings.pg_port}/{settings.pg_database}"
        ),
        "Airflow UI": f"http://127.0.0.1:{settings.airflow_ui_port}  user {AIRFLOW_ADMIN}  "
        f"password {airflow_login(settings)}",
        "MLflow UI": f"http://127.0.0.1:{settings.mlflow_ui_port}  (no login: keep it bound to loopback)",
    }


def down(settings: Settings) -> None:
    for service in (
        console_service(settings),
        airflow_service(settings),
        mlflow_service(settings),
        sandbox_service(settings),
    ):
        if processes.stop(service):
            log.info("stopped %s", service.name)
    embedded_pg.stop(settings.pg_data_dir, settings.pg_port)


def status(settings: Settings) -> list[StackStatus]:
    pg = embedded_pg.status(settings.pg_data_dir, settings.pg_port)
    rows = [StackStatus("postgres", pg.running, f"postgresql://postgres@127.0.0.1:{settings.pg_port}")]
    for service in (
        sandbox_service(settings),
        mlflow_service(settings),
        airflow_service(settings),
        console_service(settings),
    ):
        rows.append(StackStatus(service.name, processes.running_pid(service) is not None, service.url))
    return rows
