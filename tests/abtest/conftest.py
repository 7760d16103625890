"""Fixtures for the abtest tests: the Postgres URL for the mart test and the Hillstrom CSV path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ops.settings import Settings

HILLSTROM_CSV = (
    Path(__file__).resolve().parents[3] / "shared" / "datasets" / "hillstrom_email" / "hillstrom.csv"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs a real Postgres (the run's embedded one by default)")


@pytest.fixture(scope="session")
def pg_url(settings: Settings) -> str:
    """A real Postgres: MERCATOR_TEST_PG_URL if set, else the test run's embedded warehouse."""
    return os.environ.get("MERCATOR_TEST_PG_URL", settings.warehouse_url)


@pytest.fixture(scope="session")
def hillstrom_csv() -> Path:
    assert HILLSTROM_CSV.is_file(), f"Hillstrom data expected at {HILLSTROM_CSV}"
    return HILLSTROM_CSV
