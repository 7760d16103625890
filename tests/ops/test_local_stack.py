"""The local stack's guarantees: starting twice is harmless, stale pids and busy ports are explained."""

from __future__ import annotations

import socket
import sys
from datetime import date

import pytest

from ops import processes
from ops.environment import settings_env
from ops.pipeline import days_between, dwd_days
from ops.processes import Service, ServiceError
from ops.settings import Settings
from storage import embedded_pg


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
        assert processes.port_open(port)
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
