"""Shared test infrastructure: one embedded Postgres and one Spark session per test run."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from connectors.cursors import ensure_cursor_table
from connectors.sandbox.server import RunningSandbox
from ops.settings import REPO_ROOT, Settings
from storage import embedded_pg
from storage.bootstrap import ensure_databases, ensure_warehouse
from storage.warehouse import connect

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings for an isolated embedded stack under a temporary home (real Postgres, real lake dir)."""
    home = tmp_path_factory.mktemp("mercator-home")
    test_settings = Settings(
        home=home,
        pg_port=free_port(),
        sandbox_port=free_port(),
        mlflow_ui_port=free_port(),
        airflow_ui_port=free_port(),
    )
    embedded_pg.start(test_settings.pg_data_dir, test_settings.pg_socket_dir, test_settings.pg_port)
    ensure_databases(test_settings, (test_settings.pg_database, "mlflow", "airflow"))
    ensure_warehouse(test_settings.warehouse_url)
    yield test_settings
    embedded_pg.stop(test_settings.pg_data_dir, test_settings.pg_port)


@pytest.fixture(scope="session")
def spark(settings: Settings):
    """The run's single Spark session (local mode); starting one costs ~15 s, so it is shared."""
    from spark_jobs.session import build_spark_session

    session = build_spark_session(settings, app_name="mercator-tests")
    yield session
    session.stop()


@pytest.fixture
def settings_for(settings: Settings, tmp_path: Path) -> Callable[..., Settings]:
    """The session's settings (real Postgres) aimed at a sandbox, with a lake of the test's own."""

    def build(sandbox: RunningSandbox, **overrides: object) -> Settings:
        lake = (tmp_path / "lake").as_uri()
        return settings.model_copy(
            update={"sandbox_port": sandbox.port, "lake_uri_override": lake, **overrides}
        )

    return build


OwnWarehouse = Callable[..., Settings]


@pytest.fixture(scope="session")
def own_warehouse(settings: Settings) -> OwnWarehouse:
    """``own_warehouse(database, dwd_tables=None, **settings)``: the session's settings aimed at a database
    of the caller's own, bootstrapped like the real warehouse, with an empty run log and cursor table and
    the DWD tables of storage/sql named in ``dwd_tables`` (None: all) created empty, so no other module's
    rows leak in. A table left out is one the warehouse has not loaded yet (dbt stands in an empty one)."""

    def make(database: str, dwd_tables: Iterable[str] | None = None, **updates: object) -> Settings:
        own = settings.model_copy(update={"pg_database": database, **updates})
        ensure_databases(own, (database,))
        ensure_warehouse(own.warehouse_url)
        wanted = None if dwd_tables is None else set(dwd_tables)
        with connect(own) as conn:
            ensure_cursor_table(conn)
            conn.execute("truncate ops.run_log")
            conn.execute("delete from ops.connector_cursor")
            for ddl in sorted((REPO_ROOT / "storage" / "sql").glob("dwd_*.sql")):
                table = ddl.stem.removeprefix("dwd_")
                if wanted is None or table in wanted:
                    conn.execute(ddl.read_text())
                    conn.execute(f"truncate dwd.{table}")
        return own

    return make
