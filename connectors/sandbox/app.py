"""The sandbox's HTTP face: composes the paged endpoints (orders, refunds, products, operations).

The shared mechanics (auth, per-endpoint token buckets, seeded faults, pre-serialised pages, opaque tokens)
live in ``paging``; each source's window and records live in its ``*_api`` module. Truth endpoints under
``/_truth/`` are for evaluation code only.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from fastapi import FastAPI, Request, Response

from connectors.sandbox.catalog_api import mount_product_endpoints
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.finances_api import FINANCES_PATH, RETURNS_PATH, FinancesSource, ReturnsSource
from connectors.sandbox.orders import order_versions
from connectors.sandbox.orders_api import ORDERS_PATH, OrdersSource
from connectors.sandbox.paging import (
    RATE_LIMIT_HEADER,
    TOKEN_HEADER,
    BadRequest,
    PagedEndpoint,
    error_response,
    json_response,
    mount,
    mount_truth,
)
from connectors.sandbox.routes_operations import build_operations_router

__all__ = [
    "FINANCES_PATH", "ORDERS_PATH", "RATE_LIMIT_HEADER", "RETURNS_PATH", "TOKEN_HEADER", "SandboxStats",
    "create_app",
]  # fmt: skip

REQUEST_LOG_SIZE = 100_000  # a long-running stack sandbox keeps only the recent requests


@dataclass(frozen=True)
class RequestRecord:
    at: float  # time.monotonic() at arrival
    path: str
    status: int


@dataclass
class SandboxStats:
    """Every request the sandbox answered, for tests and demos that check client behaviour."""

    requests: deque[RequestRecord] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_SIZE))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def snapshot(self, path: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def status_counts(self, path: str | None = None) -> Counter:
        return Counter(r.status for r in self.snapshot(path))

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


class _RecordRequests:
    """Pure ASGI wrapper that logs (arrival time, path, status) of every HTTP request, 404s included."""

    def __init__(self, app, stats: SandboxStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                self.stats.add(RequestRecord(arrived, scope["path"], message["status"]))
            await send(message)

        await self.app(scope, receive, capture)


def create_app(config: SandboxConfig) -> FastAPI:
    """The sandbox marketplace as an ASGI app; ``app.state.stats`` records every request it answered."""
    app = FastAPI(title="Mercator sandbox marketplace", docs_url=None, redoc_url=None, openapi_url=None)
    stats = SandboxStats()
    app.state.config = config
    app.state.stats = stats

    @app.get("/health")
    async def health() -> Response:
        return json_response({"status": "ok", "seed": config.seed, "profile": config.profile})

    orders = PagedEndpoint(config, OrdersSource(config))
    mount(app, orders)

    @app.get("/_truth/orders")
    async def truth_orders(request: Request) -> Response:
        """Evaluation only: the clean records of a window, without faults or paging."""
        try:
            window = orders.source.parse_window(request.query_params)
        except BadRequest as exc:
            return error_response(400, "InvalidInput", str(exc))
        records = order_versions(
            config.seed,
            datetime.fromtimestamp(window["after"], UTC),
            datetime.fromtimestamp(window["before"], UTC),
            config.profile,
            window["marketplaceIds"],
        )
        return json_response({"Orders": records})

    finances = PagedEndpoint(config, FinancesSource(config))
    mount(app, finances)
    mount(app, PagedEndpoint(config, ReturnsSource(config)))

    def refund_causes(query) -> object:
        """Evaluation only: every refunded line of a window with its true cause."""
        from connectors.sandbox.truth import refund_truth  # evaluation code, never a connector's import

        window = finances.source.parse_window(query)
        start, end = (datetime.fromtimestamp(window[k], UTC) for k in ("after", "before"))
        frame = refund_truth(config.seed, config.profile, start, end)
        return orjson.loads(frame.to_json(orient="records", date_format="iso"))

    mount_truth(app, "/_truth/refunds", refund_causes)
    mount_product_endpoints(app, config)
    app.include_router(build_operations_router(config))

    # A pure ASGI wrapper, not BaseHTTPMiddleware, which would cost throughput.
    app.add_middleware(_RecordRequests, stats=stats)
    return app
