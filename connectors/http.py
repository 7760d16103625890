"""The shared HTTP client of every API connector: pacing, retries and errors that say what failed.

- A token bucket per endpoint paces requests at the configured rate and slows to the server's
  advertised ``x-amzn-RateLimit-Limit`` when that is lower, so a well-behaved run is never throttled.
- 429 (honouring ``Retry-After``), 5xx, timeouts, connection errors and unreadable bodies are retried with
  exponential backoff and jitter, bounded by attempts and total seconds per request; other 4xx are not.
- The final failure is a :class:`SourceRequestError` naming source, endpoint, interval and the last
  status and response snippet. The access token travels only in a header and is scrubbed from snippets.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson
from pydantic import SecretStr
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from connectors.ratelimit import TokenBucket
from ops.settings import Settings

log = logging.getLogger(__name__)
# httpx logs every request at INFO; progress here is periodic (DESIGN.md §9), so keep httpx to warnings.
logging.getLogger("httpx").setLevel(logging.WARNING)

TOKEN_HEADER = "x-amz-access-token"
RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
SNIPPET_CHARS = 300
LONG_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class HttpConfig:
    """How one source's client talks to its API; ``max_*`` bound each request including its retries."""

    base_url: str
    requests_per_second: float
    max_attempts: int = 6
    max_total_seconds: float = 120.0
    timeout_seconds: float = 30.0
    backoff_initial_seconds: float = 0.25
    backoff_max_seconds: float = 10.0
    progress_every_seconds: float = 15.0

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str, requests_per_second: float) -> HttpConfig:
        return cls(
            base_url=base_url,
            requests_per_second=requests_per_second,
            max_attempts=settings.http_max_attempts,
            max_total_seconds=settings.http_max_total_seconds,
        )


class SourceRequestError(RuntimeError):
    """A request that could not be completed; the message is safe to log (never contains credentials)."""

    def __init__(
        self, source: str, endpoint: str, interval: str, *, status: int | None, detail: str, attempts: int
    ) -> None:
        self.source = source
        self.endpoint = endpoint
        self.interval = interval
        self.status = status
        self.detail = detail
        self.attempts = attempts
        last = f"HTTP {status}" if status is not None else "no response"
        super().__init__(
            f"{source}: GET {endpoint} for {interval} failed after {attempts} attempt(s); "
            f"last: {last}: {detail}"
        )


class _Retryable(Exception):
    """One failed attempt worth repeating."""

    def __init__(self, status: int | None, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class ApiResponse:
    body: Any
    status: int
    attempts: int


@dataclass
class ClientStats:
    """Counters behind the periodic progress line."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    records: int = 0
    started: float = field(default_factory=time.monotonic)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    with contextlib.suppress(ValueError):  # not delta-seconds: try an HTTP-date below
        return max(0.0, float(value))
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ApiClient:
    """One source's HTTP client; use as a context manager so the connection pool is closed."""

    def __init__(
        self,
        source: str,
        config: HttpConfig,
        token: SecretStr | str,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.source = source
        self.config = config
        self.stats = ClientStats()
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        self._buckets: dict[str, TokenBucket] = {}
        self._backoff = wait_exponential_jitter(
            multiplier=config.backoff_initial_seconds,
            max=config.backoff_max_seconds,
            jitter=config.backoff_initial_seconds,
        )
        self._last_progress = time.monotonic()
        self._http = httpx.Client(
            base_url=config.base_url, timeout=config.timeout_seconds, transport=transport
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.log_progress(final=True)
        self._http.close()

    # ---- public ------------------------------------------------------------------------------
    def get(self, endpoint: str, params: Mapping[str, str], *, interval: str) -> ApiResponse:
        """GET ``endpoint`` and return its parsed JSON body, retrying what is worth retrying."""
        retrying = Retrying(
            stop=stop_after_attempt(self.config.max_attempts)
            | stop_before_delay(self.config.max_total_seconds),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        attempt_number = 0
        try:
            for attempt in retrying:
                attempt_number = attempt.retry_state.attempt_number
                with attempt:
                    status, body = self._attempt(endpoint, params, interval, attempt_number)
        except _Retryable as exc:
            raise SourceRequestError(
                self.source, endpoint, interval, status=exc.status, detail=exc.detail, attempts=attempt_number
            ) from None
        self._maybe_log_progress()
        return ApiResponse(body=body, status=status, attempts=attempt_number)

    def add_records(self, count: int) -> None:
        """Resources report records received so progress lines show them next to requests."""
        self.stats.records += count

    def rate_limit(self, endpoint: str) -> float:
        """The rate this client currently allows itself on ``endpoint`` (requests per second)."""
        return self._bucket(endpoint).rate

    def log_progress(self, *, final: bool = False) -> None:
        s = self.stats
        if s.requests == 0:
            return
        elapsed = max(time.monotonic() - s.started, 1e-9)
        limits = ", ".join(f"{e} {b.rate:g}/s" for e, b in self._buckets.items())
        log.info(
            "%s%s: %d requests (%d retried, %d throttled, %d 5xx, %d transport errors), %d records, "
            "%.1f req/s in %.1f s (limit %s)",
            self.source,
            " done" if final else "",
            s.requests,
            s.retries,
            s.throttled,
            s.server_errors,
            s.transport_errors,
            s.records,
            s.requests / elapsed,
            elapsed,
            limits,
        )
        self._last_progress = time.monotonic()

    # ---- internals ---------------------------------------------------------------------------
    def _bucket(self, endpoint: str) -> TokenBucket:
        if endpoint not in self._buckets:
            self._buckets[endpoint] = TokenBucket(self.config.requests_per_second, capacity=1)
        return self._buckets[endpoint]

    def _scrub(self, text: str) -> str:
        secret = self._token.get_secret_value()
        return text.replace(secret, "***") if secret else text

    def _snippet(self, response: httpx.Response) -> str:
        text = response.text[:SNIPPET_CHARS].replace("\n", " ")
        return self._scrub(text) or "(empty body)"

    def _observe_limit(self, endpoint: str, response: httpx.Response) -> None:
        try:
            advertised = float(response.headers[RATE_LIMIT_HEADER])
        except (KeyError, ValueError):
            return
        bucket = self._bucket(endpoint)
        if advertised > 0 and advertised < bucket.rate:
            log.info(
                "%s: %s advertises %g req/s, below the configured %g; slowing down",
                self.source,
                endpoint,
                advertised,
                bucket.rate,
            )
            bucket.set_rate(advertised)

    def _attempt(
        self, endpoint: str, params: Mapping[str, str], interval: str, attempt: int
    ) -> tuple[int, Any]:
        self._bucket(endpoint).acquire()
        self.stats.requests += 1
        try:
            response = self._http.get(
                endpoint, params=dict(params), headers={TOKEN_HEADER: self._token.get_secret_value()}
            )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            self.stats.transport_errors += 1
            raise _Retryable(None, self._scrub(f"{type(exc).__name__}: {exc}")) from None
        self._observe_limit(endpoint, response)
        status = response.status_code
        if status == 429:
            self.stats.throttled += 1
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(status, self._snippet(response), retry_after)
        if status >= 500:
            self.stats.server_errors += 1
            raise _Retryable(
                status, self._snippet(response), parse_retry_after(response.headers.get("Retry-After"))
            )
        if status >= 400:
            raise SourceRequestError(
                self.source,
                endpoint,
                interval,
                status=status,
                detail=self._snippet(response),
                attempts=attempt,
            )
        try:
            return status, orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise _Retryable(status, f"unreadable JSON body: {self._snippet(response)}") from None

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after + random.uniform(0.0, 0.05)  # never earlier than the server asked
        return self._backoff(state)

    def _before_sleep(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        level = logging.INFO if wait >= LONG_WAIT_SECONDS else logging.DEBUG
        log.log(
            level,
            "%s: attempt %d failed (%s); retrying in %.2f s",
            self.source,
            state.attempt_number,
            exc,
            wait,
        )

    def _maybe_log_progress(self) -> None:
        if time.monotonic() - self._last_progress >= self.config.progress_every_seconds:
            self.log_progress()
