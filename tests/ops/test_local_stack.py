"""The local stack's guarantees: starting twice is harmless, stale pids and busy ports are explained."""

from __future__ import annotations

import socket
import sys
from datetime import date

import httpx
import pytest
from pydantic import SecretStr

from ops import processes
from ops.console.service import console_service
from ops.environment import AIRFLOW_ADMIN, airflow_login, settings_env
from ops.pipeline import days_between, dwd_days
from ops.processes import Service, ServiceError
from ops.settings import Settings
from ops.stack import airflow_service, mlflow_service, sandbox_service, up
from storage import embedded_pg
from storage.host import port_open
from tests.conftest import free_port
from tests.security.processes import descendants, exposed_text, listeners


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def _http_service(tmp_path, port: int) -> Service:
    return Service(
        name="probe",
        command=(sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"),
        port=port,
        run_dir=tmp_path / "run",
        log_dir=tmp_path / "logs",
    )


def test_service_starts_once_and_stops(tmp_path):
    with _listening_socket() as sock:
        port = sock.getsockname()[1]
    service = _http_service(tmp_path, port)
    try:
        first = processes.start(service, {"PATH": "/usr/bin:/bin"}, timeout_s=30)
        assert processes.start(service, {"PATH": "/usr/bin:/bin"}) == first, "second start reuses the pid"
        assert port_open(port)
    finally:
        assert processes.stop(service)
    assert not service.pid_file.exists()
    assert processes.running_pid(service) is None


def test_stale_pid_file_is_cleaned(tmp_path):
    service = _http_service(tmp_path, 1)
    service.run_dir.mkdir(parents=True)
    service.pid_file.write_text("999999")  # beyond pid_max on Linux: never alive
    assert processes.running_pid(service) is None
    assert not service.pid_file.exists()


def test_busy_port_is_a_clear_error(tmp_path):
    with _listening_socket() as sock:
        port = sock.getsockname()[1]
        with pytest.raises(ServiceError, match=f"port {port} .* in use"):
            processes.start(_http_service(tmp_path, port), {})
        with pytest.raises(embedded_pg.EmbeddedPostgresError, match=f"port {port} .* in use"):
            embedded_pg.start(tmp_path / "pg" / "data", tmp_path / "pg" / "run", port)


def test_embedded_postgres_start_twice_is_harmless(settings):
    before = embedded_pg.status(settings.pg_data_dir, settings.pg_port)
    again = embedded_pg.start(settings.pg_data_dir, settings.pg_socket_dir, settings.pg_port)
    assert before.running and again.running and again.pid == before.pid


def test_child_processes_rebuild_the_same_settings(monkeypatch, tmp_path):
    original = Settings(
        home=tmp_path,
        pg_port=12345,
        warehouse_url_override="postgresql://u:pw@db:5432/w",
        source_url_overrides={"logistics": "https://tracking.example"},
        source_token_overrides={"logistics": "s3cret"},
    )
    for key, value in settings_env(original).items():
        monkeypatch.setenv(key, value)
    rebuilt = Settings()
    assert rebuilt == original
    assert "sandbox-token" not in repr(rebuilt) and "s3cret" not in repr(rebuilt)
    assert rebuilt.source_url("logistics") == "https://tracking.example"
    assert rebuilt.source_token("logistics").get_secret_value() == "s3cret"
    assert rebuilt.source_url("catalog") == rebuilt.orders_api_url


def test_dwd_days_cover_the_lookback():
    settings = Settings(dwd_lookback_days=3)
    assert dwd_days(settings, date(2025, 1, 10), date(2025, 1, 11))[0] == date(2025, 1, 7)
    assert len(days_between(date(2025, 1, 1), date(2025, 1, 31))) == 31
    with pytest.raises(ValueError, match="before start"):
        days_between(date(2025, 1, 2), date(2025, 1, 1))


TOKEN = "tok-CANARY-7f3a9c1e5b"
KEY = "pii-key-CANARY-2d8e4b6f0a"


def test_the_stack_listens_on_loopback_only_and_its_services_hold_no_secret(settings, monkeypatch):
    """`mercator up --ui` (on the session's Postgres), the token and key in the caller's environment too."""
    monkeypatch.setenv("ORDERS_API_TOKEN", TOKEN)
    monkeypatch.setenv("PII_HASH_KEY", KEY)
    s = settings.model_copy(
        update={
            "sandbox_port": free_port(),
            "mlflow_ui_port": free_port(),
            "airflow_ui_port": free_port(),
            "console_port": free_port(),
            "orders_api_token": SecretStr(TOKEN),
            "pii_hash_key_override": SecretStr(KEY),
        }
    )
    services = (sandbox_service(s), mlflow_service(s), airflow_service(s), console_service(s))
    try:
        up(s, with_ui=True)
        pg = embedded_pg.status(s.pg_data_dir, s.pg_port)
        ours = descendants([pg.pid, *(processes.running_pid(service) for service in services)])

        listening = [address for address, pid in listeners() if pid in ours]
        ports = {s.pg_port, s.sandbox_port, s.mlflow_ui_port, s.airflow_ui_port, s.console_port}
        assert {int(address.rsplit(":", 1)[1]) for address in listening} >= ports, listening
        assert all(address.startswith("127.0.0.1:") for address in listening), listening

        for pid in ours - descendants([pg.pid]):  # the server's own start is tested in tests/security
            shown = exposed_text(pid)
            assert TOKEN.encode() not in shown and KEY.encode() not in shown, f"secret visible in pid {pid}"
        for service in services:
            text = service.log_file.read_text(errors="replace")
            assert TOKEN not in text and KEY not in text, service.log_file
        assert airflow_login(s) not in services[2].log_file.read_text(), "Airflow printed its password"

        orders = f"{s.orders_api_url}/orders/v0/orders"
        assert httpx.get(orders, headers={"x-amz-access-token": "guess"}).status_code == 401
        assert httpx.get(orders, headers={"x-amz-access-token": TOKEN}).status_code != 401, "token via stdin"

        airflow = f"http://127.0.0.1:{s.airflow_ui_port}"
        assert httpx.get(f"{airflow}/api/v2/dags").status_code == 401, "the Airflow API needs a login"
        login = {"username": AIRFLOW_ADMIN, "password": airflow_login(s)}
        assert httpx.post(f"{airflow}/auth/token", json={**login, "password": "guess"}).status_code == 401
        token = httpx.post(f"{airflow}/auth/token", json=login).json()["access_token"]
        assert (
            httpx.get(f"{airflow}/api/v2/dags", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        )
    finally:
        for service in services:
            processes.stop(service)
