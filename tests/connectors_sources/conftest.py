"""Fixtures for the per-source connector tests: a real sandbox with faults, settings aimed at it."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from connectors.cursors import ensure_cursor_table
from connectors.registry import SOURCES
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import RunningSandbox, sandbox_server
from ops.settings import Settings
from storage.warehouse import libpq_url
from tests.connectors_sources.sandbox_truth import FAULTS, RATE, SEED


@pytest.fixture(scope="session")
def faulty_sandbox() -> Iterator[RunningSandbox]:
    """One sandbox for the folder (windows cached once): 10% 5xx, 5% 429, 1% malformed, 1% duplicated."""
    config = SandboxConfig(seed=SEED, rate_limit_per_second=RATE, rate_limit_burst=20, faults=FAULTS)
    with sandbox_server(config) as sandbox:
        yield sandbox


@pytest.fixture
def clean_cursors(settings: Settings) -> None:
    with psycopg.connect(libpq_url(settings.warehouse_url), autocommit=True) as conn:
        ensure_cursor_table(conn)
        conn.execute("delete from ops.connector_cursor where source = any(%s)", (list(SOURCES),))
