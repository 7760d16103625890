"""Running the sandbox: blocking for the stack, or in a background thread for tests and the demo."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from connectors.sandbox.app import SandboxStats, create_app
from connectors.sandbox.config import SandboxConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox answering on ``url``; ``stats`` lists the requests it served."""

    url: str
    port: int
    app: FastAPI

    @property
    def stats(self) -> SandboxStats:
        return self.app.state.stats


def _uvicorn_config(app: FastAPI, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off")


def run_sandbox(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until interrupted (the ``make up`` stack runs this via ``python -m connectors.sandbox``)."""
    log.info(
        "sandbox marketplace on http://%s:%d (seed %d, profile %s)", host, port, config.seed, config.profile
    )
    uvicorn.Server(_uvicorn_config(create_app(config), host, port, "info")).run()


@contextmanager
def sandbox_server(
    config: SandboxConfig, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 20.0
) -> Iterator[RunningSandbox]:
    """Start the sandbox in a daemon thread, wait until it answers, stop it on exit (port 0: any free)."""
    app = create_app(config)
    server = uvicorn.Server(_uvicorn_config(app, host, port, "warning"))
    thread = threading.Thread(target=server.run, name="sandbox-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox did not start on {host}:{port}")
            time.sleep(0.02)
        bound = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://{host}:{bound}"
        httpx.get(f"{url}/health", timeout=5.0).raise_for_status()
        yield RunningSandbox(url=url, port=bound, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
