"""Fixtures for connector tests: real sandbox servers on loopback, settings pointing at them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import RunningSandbox, sandbox_server
from ops.settings import Settings

StartSandbox = Callable[..., RunningSandbox]


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    """Start sandbox servers (port 0 = any free port) that stop when the test ends."""
    with ExitStack() as stack:

        def start(config: SandboxConfig | None = None, port: int = 0) -> RunningSandbox:
            return stack.enter_context(sandbox_server(config or SandboxConfig(), port=port))

        yield start


@pytest.fixture
def settings_for(settings: Settings, tmp_path: Path) -> Callable[..., Settings]:
    """The session's settings (real Postgres) aimed at a sandbox, with a lake of the test's own."""

    def build(sandbox: RunningSandbox, **overrides: object) -> Settings:
        lake = (tmp_path / "lake").as_uri()
        return settings.model_copy(
            update={"sandbox_port": sandbox.port, "lake_uri_override": lake, **overrides}
        )

    return build
