"""Another OS user on the same machine gets nothing: no Postgres login without the password, no secrets,
no socket, no lake; with the analyst password only dws and ads (issue 13)."""

from __future__ import annotations

import stat
import subprocess

import psycopg
import pytest

from ops.settings import Settings
from ops.stack import credentials
from storage import embedded_pg
from storage.bootstrap import ANALYST_ROLE
from storage.lake import local_path
from storage.secrets import read_passwords
from tests.conftest import free_port
from tests.security.processes import descendants, exposed_text

PSQL = str(embedded_pg.BIN_DIR / "psql")
STRANGER = "nobody"


def _as_stranger(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as another unprivileged user (this test runs as root, as CI here does)."""
    prefix = ["runuser", "-u", STRANGER, "--", "env", "-i", *(f"{k}={v}" for k, v in (env or {}).items())]
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=60)


def _psql(settings: Settings, role: str, sql: str, password: str | None = None):
    url = f"postgresql://{role}@127.0.0.1:{settings.pg_port}/{settings.pg_database}"
    return _as_stranger(PSQL, url, "-X", "-At", "-c", sql, env={"PGPASSWORD": password} if password else None)


def test_no_login_without_the_password_on_tcp_or_the_socket(settings: Settings):
    for role in ("postgres", ANALYST_ROLE, "mercator_owner"):
        denied = _psql(settings, role, "select 1")
        assert denied.returncode != 0 and "no password supplied" in denied.stderr, (role, denied.stderr)
    wrong = _psql(settings, "postgres", "select 1", password="guess")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    socket = _as_stranger(
        PSQL, "-h", str(settings.pg_socket_dir), "-p", str(settings.pg_port), "-U", "postgres"
    )
    assert socket.returncode != 0 and "Permission denied" in socket.stderr
    assert (settings.pg_data_dir / "pg_hba.conf").read_text() == embedded_pg.HBA  # no trust line anywhere
    assert "trust" not in embedded_pg.HBA


def test_the_stranger_cannot_read_secrets_or_the_lake(settings: Settings):
    ods_file = local_path(settings.lake_uri) / "ods" / "orders" / "order" / "probe.jsonl"
    ods_file.parent.mkdir(parents=True, exist_ok=True)
    ods_file.write_text('{"BuyerEmail": "someone@example.com"}\n')
    assert settings.pii_hash_key.get_secret_value()  # the embedded default generated its key file
    for private in (
        settings.pg_passfile,
        settings.pii_key_file,
        ods_file,
        settings.pg_data_dir / "PG_VERSION",
    ):
        read = _as_stranger("cat", str(private))
        assert read.returncode != 0 and "Permission denied" in read.stderr, private
    for secret_file in (settings.pg_passfile, settings.pii_key_file):
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.secrets_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(settings.pg_socket_dir.stat().st_mode) == 0o700


def test_the_analyst_password_opens_dws_and_ads_only(settings: Settings):
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        conn.execute("create table if not exists ads.security_probe (x int)")
        conn.execute("create table if not exists dws.security_probe (x int)")
    password = read_passwords(settings.pg_passfile)[ANALYST_ROLE]
    for allowed in ("ads.security_probe", "dws.security_probe"):
        ok = _psql(settings, ANALYST_ROLE, f"select count(*) from {allowed}", password)
        assert ok.returncode == 0 and ok.stdout.strip() == "0", ok.stderr
    for denied in ("dwd.fx_rate", "ops.run_log"):
        refused = _psql(settings, ANALYST_ROLE, f"select count(*) from {denied}", password)
        assert refused.returncode != 0 and "permission denied for schema" in refused.stderr, denied
    # ODS is not in Postgres at all (the lake only): the analyst cannot create a way to it either
    refused = _psql(settings, ANALYST_ROLE, "copy (select 1) to program 'id'", password)
    assert refused.returncode != 0 and "permission denied" in refused.stderr.lower()


def test_credentials_print_a_working_read_only_connection_string(settings: Settings):
    shown = credentials(settings)
    analyst_url = shown["analyst (BI, read-only)"]
    with psycopg.connect(analyst_url) as conn:
        assert conn.execute("select current_user").fetchone()[0] == ANALYST_ROLE
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from dwd.fx_rate limit 1")
    assert "password" in shown["Airflow UI"]


def test_the_server_stores_only_scram_verifiers(settings: Settings):
    with psycopg.connect(settings.warehouse_url) as conn:
        stored = dict(conn.execute("select rolname, rolpassword from pg_authid where rolcanlogin").fetchall())
    assert stored["postgres"].startswith("SCRAM-SHA-256$") and stored[ANALYST_ROLE].startswith(
        "SCRAM-SHA-256$"
    )
    assert all(value and value.startswith("SCRAM-SHA-256$") for value in stored.values()), stored


def test_the_postgres_server_holds_no_secret_of_the_user_who_started_it(tmp_path, monkeypatch):
    token, key = "tok-CANARY-server-env", "key-CANARY-server-env"
    monkeypatch.setenv("ORDERS_API_TOKEN", token)
    monkeypatch.setenv("PII_HASH_KEY", key)
    data_dir, port = tmp_path / "home" / "pg" / "data", free_port()
    try:
        server = embedded_pg.start(data_dir, tmp_path / "home" / "pg" / "run", port)
        processes = descendants([server.pid])
        assert len(processes) > 1, "postmaster and its background workers"
        for pid in processes:
            shown = exposed_text(pid)
            assert token.encode() not in shown and key.encode() not in shown, pid
    finally:
        embedded_pg.stop(data_dir, port)
