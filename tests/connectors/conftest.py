"""Fixtures for connector tests: real sandbox servers on loopback, settings pointing at them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import RunningSandbox, sandbox_server

StartSandbox = Callable[..., RunningSandbox]


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    """Start sandbox servers (port 0 = any free port) that stop when the test ends."""
    with ExitStack() as stack:

        def start(config: SandboxConfig | None = None, port: int = 0) -> RunningSandbox:
            return stack.enter_context(sandbox_server(config or SandboxConfig(), port=port))

        yield start
