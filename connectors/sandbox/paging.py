"""Reusable pieces of every sandbox endpoint: auth, rate limit, seeded faults, opaque tokens, paging.

A source says how a request names a *window* (a small JSON-able dict) and which records that window holds;
``PagedEndpoint`` does the rest the same way for every source, so a connector that survives one endpoint's
behaviour survives them all. To add an endpoint::

    class Shipments(PagedSource):
        path, list_key = "/tracking/v1/shipments", "shipments"
        def parse_window(self, query): ...       # raise BadRequest on bad input
        def records(self, window): ...           # clean records, in a stable order
        def record_key(self, record): ...        # stable id for per-record fault dice
        def corrupt(self, record, u): ...        # a malformed copy (u uniform in [0, 1))

    mount(app, PagedEndpoint(config, Shipments(config)))

Pages are pre-serialised orjson bytes (DESIGN.md §9) and a window is built once and cached, so a page token
(base64 of the window and offset) always names the same bytes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
from abc import ABC, abstractmethod
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime

import orjson
from fastapi import FastAPI, Request, Response

from connectors.ratelimit import TokenBucket
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.faults import FaultDice

RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
TOKEN_HEADER = "x-amz-access-token"
WINDOW_CACHE_SIZE = 8


class BadRequest(ValueError):
    """A request the API rejects with 400 InvalidInput."""


def json_response(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=orjson.dumps(payload), status_code=status, media_type="application/json", headers=headers
    )


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """The SP-API error envelope."""
    return json_response({"errors": [{"code": code, "message": message, "details": ""}]}, status, headers)


def parse_time(value: str | None, name: str) -> datetime:
    """An ISO 8601 date-time with a zone, as UTC; ``name`` is the parameter named in the error."""
    if not value:
        raise BadRequest(f"{name} is required")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise BadRequest(f"{name} must carry a time zone")
    return parsed.astimezone(UTC)


def parse_day(value: str | None, name: str) -> date:
    if not value:
        raise BadRequest(f"{name} is required")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} is not a YYYY-MM-DD date") from None


def parse_marketplaces(value: str | None, known: tuple[str, ...], name: str = "marketplaceIds") -> list[str]:
    """Comma-separated marketplace ids, checked against the profile, sorted (windows must be canonical)."""
    requested = sorted({m for m in (value or "").split(",") if m})
    if not requested:
        raise BadRequest(f"{name} is required")
    unknown = set(requested) - set(known)
    if unknown:
        raise BadRequest(f"unknown {name}: {sorted(unknown)}")
    return requested


def encode_token(window: Mapping[str, object], offset: int) -> str:
    """An opaque page token; the same window and offset always give the same token."""
    raw = orjson.dumps({"w": window, "o": offset}, option=orjson.OPT_SORT_KEYS)
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(token: str, name: str = "pageToken") -> tuple[dict, int]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        window, offset = data["w"], int(data["o"])
        if not isinstance(window, dict) or offset < 0:
            raise ValueError
        return window, offset
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise BadRequest(f"{name} is invalid") from None


def serve(
    records: list[dict],
    faults: FaultConfig,
    dice: FaultDice,
    key: Callable[[dict], str],
    corrupt: Callable[[dict, float], dict],
    tamper: Callable[[dict, str], dict] | None = None,
) -> list[bytes]:
    """Serialise a window's records once, malforming and duplicating records by seeded per-record dice.

    The dice are keyed by ``key(record)``, so the same record is broken (or duplicated) on every fetch,
    as in real feeds; ``tamper`` lets a source add its own well-formed-but-wrong records.
    """
    served: list[bytes] = []
    for record in records:
        k = key(record)
        if faults.malformed_rate and dice.roll("malformed", k) < faults.malformed_rate:
            record = corrupt(record, dice.roll("malformed-kind", k))
        if tamper is not None:
            record = tamper(record, k)
        body = orjson.dumps(drift_schema(record, faults))
        served.append(body)
        if faults.duplicate_rate and dice.roll("duplicate", k) < faults.duplicate_rate:
            served.append(body)
    return served


def drift_schema(record: dict, faults: FaultConfig) -> dict:
    """The record as a drifted API version serves it: fields renamed, one field added (value null)."""
    if not faults.added_field and not faults.renamed_fields:
        return record
    renames = dict(faults.renamed_fields)
    drifted = {renames.get(name, name): value for name, value in record.items()}
    if faults.added_field:
        drifted[faults.added_field] = None
    return drifted


class Guard:
    """Everything an endpoint checks before it looks at the query: auth, its token bucket, seeded faults.

    Each endpoint has its own Guard (real APIs limit per operation). The order of checks matches SP-API:
    401, then the quota (429 + ``Retry-After``), then injected outages, throttles and 5xx.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.dice = FaultDice(config.seed)
        self.bucket = TokenBucket(config.rate_limit_per_second, config.rate_limit_burst)
        self.limit_header = {RATE_LIMIT_HEADER: f"{config.rate_limit_per_second:g}"}
        self.attempts: Counter = Counter()
        self.request_count = 0

    async def check(self, request: Request) -> Response | None:
        """None if the request may be answered, else the error response to send."""
        config, faults = self.config, self.config.faults
        token = request.headers.get(TOKEN_HEADER)
        if not token or (config.access_token is not None and token != config.access_token):
            return error_response(401, "Unauthorized", "Access to requested resource is denied.")
        wait = self.bucket.try_acquire()
        if wait > 0:
            retry = {**self.limit_header, "Retry-After": str(max(1, math.ceil(wait)))}
            return error_response(
                429, "QuotaExceeded", "You exceeded your quota for the requested resource.", retry
            )
        self.request_count += 1
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000.0)
        if faults.outage_after_requests is not None and self.request_count > faults.outage_after_requests:
            return error_response(
                503, "ServiceUnavailable", "Service temporarily unavailable.", self.limit_header
            )
        key = str(request.query_params)  # each endpoint has its own Guard, so paths need not be in it
        attempt = self.attempts[key]
        self.attempts[key] += 1
        if self.dice.roll("429", f"{key}#{attempt}") < faults.throttle_429_rate:
            retry = {**self.limit_header, "Retry-After": str(faults.retry_after_seconds)}
            return error_response(
                429, "QuotaExceeded", "You exceeded your quota for the requested resource.", retry
            )
        if self.dice.roll("5xx", f"{key}#{attempt}") < faults.error_5xx_rate:
            status = 500 if self.dice.roll("5xx-kind", f"{key}#{attempt}") < 0.5 else 503
            return error_response(
                status,
                "InternalFailure",
                "We encountered an internal error. Please try again.",
                self.limit_header,
            )
        return None


class PagedSource(ABC):
    """What one paged endpoint serves; ``PagedEndpoint`` adds auth, limits, faults, caching and tokens."""

    path: str
    list_key: str  # the JSON array the records go in
    token_param: str = "pageToken"
    size_param: str = "pageSize"
    marketplace_param: str = "marketplaceIds"

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config

    @abstractmethod
    def parse_window(self, query: Mapping[str, str]) -> dict:
        """The canonical window a first-page request names (JSON-able; must hold ``marketplaceIds``)."""

    @abstractmethod
    def records(self, window: dict) -> list[dict]:
        """The clean records of a window, in a stable order."""

    @abstractmethod
    def record_key(self, record: dict) -> str:
        """A stable identity (with version) of a record, for per-record fault dice."""

    @abstractmethod
    def corrupt(self, record: dict, u: float) -> dict:
        """A malformed copy of the record; ``u`` (uniform in [0, 1)) picks how it breaks."""

    def tamper(self, record: dict, key: str) -> dict:
        """Source-specific well-formed faults; none by default."""
        return record

    def page_body(self, chunk: list[bytes], next_token: str | None, total: int) -> bytes:
        """Catalog Items 2022-04-01 envelope: ``numberOfResults``, ``pagination.nextToken``, the list."""
        body = b'{"numberOfResults":' + str(total).encode() + b',"pagination":{'
        if next_token is not None:
            body += b'"nextToken":' + orjson.dumps(next_token)
        return body + b'},"' + self.list_key.encode() + b'":[' + b",".join(chunk) + b"]}"


class PagedEndpoint:
    """A source behind the shared guard, with a window cache so every page token names the same bytes."""

    def __init__(self, config: SandboxConfig, source: PagedSource) -> None:
        self.config = config
        self.source = source
        self.guard = Guard(config)
        self.windows: OrderedDict[bytes, list[bytes]] = OrderedDict()

    def served(self, window: dict) -> list[bytes]:
        key = orjson.dumps(window, option=orjson.OPT_SORT_KEYS)
        if key in self.windows:
            self.windows.move_to_end(key)
            return self.windows[key]
        src = self.source
        served = serve(
            src.records(window), self.config.faults, self.guard.dice, src.record_key, src.corrupt, src.tamper
        )
        self.windows[key] = served
        if len(self.windows) > WINDOW_CACHE_SIZE:
            self.windows.popitem(last=False)
        return served

    def parse(self, query: Mapping[str, str]) -> tuple[dict, int, int]:
        """(window, offset, page size) of a request; a token's window wins over the other parameters."""
        src = self.source
        try:
            size = int(query.get(src.size_param, self.config.max_page_size))
        except ValueError:
            raise BadRequest(f"{src.size_param} must be an integer") from None
        if not 1 <= size <= self.config.max_page_size:
            raise BadRequest(f"{src.size_param} must be between 1 and {self.config.max_page_size}")
        if token := query.get(src.token_param):
            window, offset = decode_token(token, src.token_param)
            requested = {m for m in query.get(src.marketplace_param, "").split(",") if m}
            if requested and requested != set(window.get("marketplaceIds", ())):
                raise BadRequest(f"{src.marketplace_param} differ from the request that issued the token")
            return window, offset, size
        return src.parse_window(query), 0, size

    def page(self, window: dict, offset: int, size: int) -> bytes:
        served = self.served(window)
        more = offset + size < len(served)
        token = encode_token(window, offset + size) if more else None
        return self.source.page_body(served[offset : offset + size], token, len(served))

    async def handle(self, request: Request) -> Response:
        if (refused := await self.guard.check(request)) is not None:
            return refused
        try:
            window, offset, size = self.parse(request.query_params)
        except BadRequest as exc:
            return error_response(400, "InvalidInput", str(exc), self.guard.limit_header)
        body = self.page(window, offset, size)
        return Response(content=body, media_type="application/json", headers=self.guard.limit_header)


def mount(app: FastAPI, endpoint: PagedEndpoint) -> None:
    """Serve ``endpoint`` at its source's path (GET)."""

    async def get(request: Request) -> Response:
        return await endpoint.handle(request)

    app.add_api_route(endpoint.source.path, get, methods=["GET"], name=endpoint.source.path)


def mount_truth(app: FastAPI, path: str, answer: Callable[[Mapping[str, str]], object]) -> None:
    """An evaluation-only GET endpoint (no auth, no limits, no faults) that connectors never call."""

    async def get(request: Request) -> Response:
        try:
            return json_response(answer(request.query_params))
        except BadRequest as exc:
            return error_response(400, "InvalidInput", str(exc))

    app.add_api_route(path, get, methods=["GET"], name=path)
