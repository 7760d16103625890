"""A tiny app serving only the operations router, run by uvicorn on a free loopback port (a real server)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.routes_operations import build_operations_router

TOKEN = {"x-amz-access-token": "test-token"}


@contextmanager
def operations_server(config: SandboxConfig) -> Iterator[str]:
    """Serve the operations router alone until the block ends; yields the base URL."""
    app = FastAPI()
    app.include_router(build_operations_router(config))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "operations server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def start_operations() -> Iterator[Callable[[SandboxConfig], httpx.Client]]:
    """Start servers for given configs; each returns a client bound to its URL, closed at test end."""
    with ExitStack() as stack:

        def start(config: SandboxConfig) -> httpx.Client:
            url = stack.enter_context(operations_server(config))
            return stack.enter_context(httpx.Client(base_url=url, timeout=60.0))

        yield start
