"""The chaos suite's stack: a Postgres of its own (one case stops it), a sandbox, a fresh warehouse.

Its first week of days, run clean, is the reference every case is compared with: after each case every
dwd/dws/ads table must have the checksum it had after that clean week (storage.table_checksums), or the
case must have failed clearly with nothing published.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import RunningSandbox, sandbox_server
from ops.environment import child_env
from ops.settings import REPO_ROOT, Settings
from storage import embedded_pg
from storage.bootstrap import ensure_databases, ensure_warehouse
from storage.table_checksums import TableChecksum, differences, warehouse_checksums
from storage.warehouse import connect
from tests.chaos.day import run_day
from tests.conftest import free_port

SEED = 11
RATE = 500.0
WEEK = tuple(date(2025, 11, 1) + timedelta(days=n) for n in range(7))  # a fresh warehouse's first week


def sandbox_config(faults: FaultConfig | None = None) -> SandboxConfig:
    return SandboxConfig(
        seed=SEED, rate_limit_per_second=RATE, rate_limit_burst=100, faults=faults or FaultConfig()
    )


@dataclass
class Chaos:
    """The stack, the clean week's checksums, and the moves the cases make."""

    settings: Settings
    reference: dict[str, TableChecksum]

    def checksums(self) -> dict[str, TableChecksum]:
        with connect(self.settings) as conn:
            return warehouse_checksums(conn)

    def differences(self) -> list[str]:
        return differences(self.reference, self.checksums())

    def start_postgres(self) -> None:
        embedded_pg.start(self.settings.pg_data_dir, self.settings.pg_socket_dir, self.settings.pg_port)

    def stop_postgres(self) -> None:
        embedded_pg.stop(self.settings.pg_data_dir, self.settings.pg_port)

    def kill_child_at(self, ds: date, marker: str, log: Path, settings: Settings | None = None) -> str:
        """Run the day as a child process and ``kill -9`` it (with its JVM) when ``marker`` is printed."""
        pattern = re.compile(marker)
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.day", "--ds", ds.isoformat()],
            cwd=REPO_ROOT,
            env=child_env(settings or self.settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # its own process group: the kill takes the Spark JVM too
        )
        seen: list[str] = []
        with log.open("w") as out:
            for line in child.stdout:
                out.write(line)
                seen.append(line)
                if pattern.search(line):
                    os.killpg(child.pid, signal.SIGKILL)
                    break
        child.wait()
        assert child.returncode == -signal.SIGKILL, (
            f"the child ended before {marker!r}: {''.join(seen[-30:])}"
        )
        return line


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with sandbox_server(sandbox_config()) as running:
        yield running


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory, sandbox: RunningSandbox, spark) -> Iterator[Chaos]:
    """A fresh warehouse in a Postgres of its own, its first week run clean day by day (the reference).

    A day that fails (a gate's false alarm on the young warehouse included) fails the fixture, naming it.
    """
    home = tmp_path_factory.mktemp("chaos-home")
    settings = Settings(
        home=home,
        pg_port=free_port(),
        sandbox_port=sandbox.port,
        mlflow_ui_port=free_port(),
        airflow_ui_port=free_port(),
        orders_requests_per_second=RATE,
        http_max_attempts=20,
        http_max_total_seconds=300.0,
    )
    embedded_pg.start(settings.pg_data_dir, settings.pg_socket_dir, settings.pg_port)
    try:
        ensure_databases(settings, (settings.pg_database,))
        ensure_warehouse(settings.warehouse_url)
        for ds in WEEK:
            run_day(settings, ds)
        with connect(settings) as conn:
            reference = warehouse_checksums(conn)
        yield Chaos(settings, reference)
    finally:
        embedded_pg.stop(settings.pg_data_dir, settings.pg_port)
