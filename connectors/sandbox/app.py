"""The sandbox's HTTP face: an SP-API Orders-shaped endpoint with auth, rate limits and faults.

Responses are pre-serialised bytes (orjson) because building a response from dicts costs ~4x the
throughput (DESIGN.md §9). A window's records are built and serialised once, then paged by offset, so
a NextToken always names the same page.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import threading
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
from fastapi import FastAPI, Request, Response

from connectors.ratelimit import TokenBucket
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.faults import FaultDice, serve_records
from connectors.sandbox.orders import order_versions
from connectors.sandbox.profiles import get_profile

ORDERS_PATH = "/orders/v0/orders"
RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
TOKEN_HEADER = "x-amz-access-token"
MAX_WINDOW = timedelta(days=31)
WINDOW_CACHE_SIZE = 8
REQUEST_LOG_SIZE = 100_000  # a long-running stack sandbox keeps only the recent requests


class BadRequest(ValueError):
    """A request the API rejects with 400 InvalidInput."""


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


def _json(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=orjson.dumps(payload), status_code=status, media_type="application/json", headers=headers
    )


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return _json({"errors": [{"code": code, "message": message, "details": ""}]}, status, headers)


def _parse_time(value: str | None, name: str) -> datetime:
    if not value:
        raise BadRequest(f"{name} is required")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise BadRequest(f"{name} must carry a time zone")
    return parsed.astimezone(UTC)


def encode_token(lo: int, hi: int, marketplaces: tuple[str, ...], offset: int) -> str:
    raw = orjson.dumps({"a": lo, "b": hi, "m": list(marketplaces), "o": offset})
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(token: str) -> tuple[int, int, tuple[str, ...], int]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["a"]), int(data["b"]), tuple(data["m"]), int(data["o"])
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise BadRequest("NextToken is invalid") from None


class _Orders:
    """The Orders endpoint's state: window cache, per-page attempt counts for seeded faults."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.profile = get_profile(config.profile)
        self.dice = FaultDice(config.seed)
        self.bucket = TokenBucket(config.rate_limit_per_second, config.rate_limit_burst)
        self.windows: OrderedDict[tuple, list[bytes]] = OrderedDict()
        self.attempts: Counter = Counter()
        self.request_count = 0

    def window(self, lo: int, hi: int, marketplaces: tuple[str, ...]) -> list[bytes]:
        key = (lo, hi, marketplaces)
        if key in self.windows:
            self.windows.move_to_end(key)
            return self.windows[key]
        records = order_versions(
            self.config.seed,
            datetime.fromtimestamp(lo, UTC),
            datetime.fromtimestamp(hi, UTC),
            self.config.profile,
            marketplaces,
        )
        served = serve_records(records, self.config.faults, self.dice)
        self.windows[key] = served
        if len(self.windows) > WINDOW_CACHE_SIZE:
            self.windows.popitem(last=False)
        return served

    def parse(self, request: Request) -> tuple[int, int, tuple[str, ...], int, int]:
        q = request.query_params
        try:
            size = int(q.get("MaxResultsPerPage", self.config.max_page_size))
        except ValueError:
            raise BadRequest("MaxResultsPerPage must be an integer") from None
        if not 1 <= size <= self.config.max_page_size:
            raise BadRequest(f"MaxResultsPerPage must be between 1 and {self.config.max_page_size}")
        requested = tuple(m for m in q.get("MarketplaceIds", "").split(",") if m)
        if token := q.get("NextToken"):
            lo, hi, marketplaces, offset = decode_token(token)
            if requested and set(requested) != set(marketplaces):
                raise BadRequest("MarketplaceIds differ from the request that issued NextToken")
            return lo, hi, marketplaces, offset, size
        if not requested:
            raise BadRequest("MarketplaceIds is required")
        unknown = set(requested) - set(self.profile.marketplace_ids)
        if unknown:
            raise BadRequest(f"unknown MarketplaceIds: {sorted(unknown)}")
        after = _parse_time(q.get("LastUpdatedAfter"), "LastUpdatedAfter")
        before_raw = q.get("LastUpdatedBefore")
        before = _parse_time(before_raw, "LastUpdatedBefore") if before_raw else after + timedelta(days=1)
        if not after < before <= after + MAX_WINDOW:
            raise BadRequest(
                f"LastUpdatedBefore must be after LastUpdatedAfter and within {MAX_WINDOW.days} days"
            )
        return int(after.timestamp()), int(before.timestamp()), tuple(sorted(requested)), 0, size

    def page(self, lo: int, hi: int, marketplaces: tuple[str, ...], offset: int, size: int) -> bytes:
        served = self.window(lo, hi, marketplaces)
        chunk = served[offset : offset + size]
        body = b'{"payload":{"Orders":[' + b",".join(chunk) + b"]"
        if offset + size < len(served):
            body += b',"NextToken":' + orjson.dumps(encode_token(lo, hi, marketplaces, offset + size))
        return body + b"}}"


def create_app(config: SandboxConfig) -> FastAPI:
    """The sandbox marketplace as an ASGI app; ``app.state.stats`` records every request it answered."""
    app = FastAPI(title="Mercator sandbox marketplace", docs_url=None, redoc_url=None, openapi_url=None)
    orders = _Orders(config)
    stats = SandboxStats()
    faults = config.faults
    limit_header = {RATE_LIMIT_HEADER: f"{config.rate_limit_per_second:g}"}
    app.state.config = config
    app.state.stats = stats

    @app.get("/health")
    async def health() -> Response:
        return _json({"status": "ok", "seed": config.seed, "profile": config.profile})

    @app.get(ORDERS_PATH)
    async def get_orders(request: Request) -> Response:
        token = request.headers.get(TOKEN_HEADER)
        if not token or (config.access_token is not None and token != config.access_token):
            return _error(401, "Unauthorized", "Access to requested resource is denied.")
        wait = orders.bucket.try_acquire()
        if wait > 0:
            retry = {**limit_header, "Retry-After": str(max(1, math.ceil(wait)))}
            return _error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.", retry)
        orders.request_count += 1
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000.0)
        if faults.outage_after_requests is not None and orders.request_count > faults.outage_after_requests:
            return _error(503, "ServiceUnavailable", "Service temporarily unavailable.", limit_header)
        key = str(request.query_params)
        attempt = orders.attempts[key]
        orders.attempts[key] += 1
        if orders.dice.roll("429", f"{key}#{attempt}") < faults.throttle_429_rate:
            retry = {**limit_header, "Retry-After": str(faults.retry_after_seconds)}
            return _error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.", retry)
        if orders.dice.roll("5xx", f"{key}#{attempt}") < faults.error_5xx_rate:
            status = 500 if orders.dice.roll("5xx-kind", f"{key}#{attempt}") < 0.5 else 503
            return _error(
                status, "InternalFailure", "We encountered an internal error. Please try again.", limit_header
            )
        try:
            lo, hi, marketplaces, offset, size = orders.parse(request)
        except BadRequest as exc:
            return _error(400, "InvalidInput", str(exc), limit_header)
        body = orders.page(lo, hi, marketplaces, offset, size)
        return Response(content=body, media_type="application/json", headers=limit_header)

    @app.get("/_truth/orders")
    async def truth_orders(request: Request) -> Response:
        """Evaluation only: the clean records of a window, without faults or paging."""
        try:
            lo, hi, marketplaces, _offset, _size = orders.parse(request)
        except BadRequest as exc:
            return _error(400, "InvalidInput", str(exc))
        records = order_versions(
            config.seed,
            datetime.fromtimestamp(lo, UTC),
            datetime.fromtimestamp(hi, UTC),
            config.profile,
            marketplaces,
        )
        return _json({"Orders": records})

    # A pure ASGI wrapper, not BaseHTTPMiddleware, which would cost throughput.
    app.add_middleware(_RecordRequests, stats=stats)
    return app
