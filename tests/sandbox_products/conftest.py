"""Fixtures for the product-side sandbox tests: real sandbox servers on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import RunningSandbox, sandbox_server


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., RunningSandbox]]:
    """Start sandbox servers (any free port) that stop when the test ends."""
    with ExitStack() as stack:

        def start(config: SandboxConfig | None = None) -> RunningSandbox:
            return stack.enter_context(sandbox_server(config or SandboxConfig(), port=0))

        yield start
