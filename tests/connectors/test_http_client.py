"""The shared HTTP client against a real sandbox: pacing, retries, and errors that leak nothing."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import pytest

from connectors.http import ApiClient, HttpConfig, SourceRequestError
from connectors.orders import ORDER, orders_source
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.orders import order_versions
from connectors.source import Window

SECRET = "tok-SECRET-8c1f2e"
WINDOW = Window(datetime(2025, 10, 14, 10, tzinfo=UTC), datetime(2025, 10, 14, 12, tzinfo=UTC))
FIRST_PAGE = {
    "MarketplaceIds": "ATVPDKIKX0DER,A1F83G8C2ARO7P",
    "LastUpdatedAfter": "2025-10-14T10:00:00Z",
    "LastUpdatedBefore": "2025-10-14T12:00:00Z",
    "MaxResultsPerPage": "10",
}
FAST = {"backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.05}


def _client(url: str, rate: float = 1000.0, **overrides: float) -> ApiClient:
    return ApiClient("orders", HttpConfig(base_url=url, requests_per_second=rate, **overrides), SECRET)


def _fetch_window(client: ApiClient, page_size: int = 50) -> list[dict]:
    resource = orders_source(client, WINDOW, page_size=page_size).resource(ORDER.entity)
    return [record for page in resource.pages() for record in page.records]


def _max_in_any_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


def test_client_paces_itself_at_the_configured_rate(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(rate_limit_per_second=20, rate_limit_burst=20))
    with _client(sandbox.url, rate=20) as client:
        for _ in range(60):
            client.get(ORDER.path, FIRST_PAGE, interval=str(WINDOW))
    arrivals = [r.at for r in sandbox.stats.snapshot(ORDER.path)]
    assert sandbox.stats.status_counts(ORDER.path) == {200: 60}
    assert arrivals[-1] - arrivals[0] >= 59 / 20 * 0.95
    assert _max_in_any_second(arrivals) <= 22  # rate + 1 token + 1 for arrival jitter


def test_client_slows_down_to_the_advertised_limit(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(rate_limit_per_second=20, rate_limit_burst=5))
    with _client(sandbox.url, rate=500) as client:
        for _ in range(40):
            client.get(ORDER.path, FIRST_PAGE, interval=str(WINDOW))
        assert client.rate_limit(ORDER.path) == 20
    arrivals = [r.at for r in sandbox.stats.snapshot(ORDER.path)]
    assert sandbox.stats.status_counts(ORDER.path) == {200: 40}  # an unpaced client would hit 429s
    assert arrivals[-1] - arrivals[0] >= 39 / 20 * 0.95


def test_429_is_retried_no_earlier_than_retry_after(start_sandbox):
    faults = FaultConfig(throttle_429_rate=0.4, retry_after_seconds=1)
    sandbox = start_sandbox(
        SandboxConfig(seed=11, rate_limit_per_second=1000, rate_limit_burst=1000, faults=faults)
    )
    with _client(sandbox.url, **FAST) as client:
        records = _fetch_window(client, page_size=100)
    assert records == order_versions(11, WINDOW.start, WINDOW.end)
    log = sandbox.stats.snapshot(ORDER.path)
    throttled = [i for i, r in enumerate(log) if r.status == 429]
    assert throttled, "the seeded faults should have throttled at least once"
    for i in throttled:
        assert log[i + 1].at - log[i].at >= 0.95


def test_5xx_is_retried_and_no_record_is_lost(start_sandbox):
    faults = FaultConfig(error_5xx_rate=0.5)
    sandbox = start_sandbox(
        SandboxConfig(seed=12, rate_limit_per_second=1000, rate_limit_burst=1000, faults=faults)
    )
    with _client(sandbox.url, **FAST) as client:
        records = _fetch_window(client)
        assert client.stats.retries >= 1
    assert records == order_versions(12, WINDOW.start, WINDOW.end)
    counts = sandbox.stats.status_counts(ORDER.path)
    assert counts[500] + counts[503] >= 1


def test_gives_up_after_max_attempts_with_a_clear_error_and_no_token(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(faults=FaultConfig(error_5xx_rate=1.0)))
    with _client(sandbox.url, max_attempts=3, **FAST) as client, pytest.raises(SourceRequestError) as caught:
        client.get(ORDER.path, FIRST_PAGE, interval=str(WINDOW))
    error = caught.value
    message = str(error)
    assert error.status in (500, 503) and error.attempts == 3
    assert "orders" in message and ORDER.path in message and str(WINDOW) in message
    assert f"HTTP {error.status}" in message and "InternalFailure" in message
    assert SECRET not in message and SECRET not in repr(error.args) and error.__cause__ is None
    assert len(sandbox.stats.snapshot(ORDER.path)) == 3


def test_total_time_bounds_retries(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(faults=FaultConfig(error_5xx_rate=1.0)))
    started = time.monotonic()
    with (
        _client(sandbox.url, max_attempts=50, max_total_seconds=1.0, backoff_initial_seconds=0.2) as client,
        pytest.raises(SourceRequestError) as caught,
    ):
        client.get(ORDER.path, FIRST_PAGE, interval=str(WINDOW))
    assert time.monotonic() - started < 2.5
    assert 1 < caught.value.attempts < 50


@pytest.mark.parametrize(("path", "token", "status"), [("/orders/v0/nowhere", SECRET, 404), (None, "", 401)])
def test_client_errors_are_not_retried(start_sandbox, path, token, status):
    sandbox = start_sandbox(SandboxConfig(access_token=SECRET))
    config = HttpConfig(base_url=sandbox.url, requests_per_second=1000, **FAST)
    wrong = token or "wrong-token-value"
    with ApiClient("orders", config, wrong) as client, pytest.raises(SourceRequestError) as caught:
        client.get(path or ORDER.path, FIRST_PAGE, interval=str(WINDOW))
    assert caught.value.status == status and caught.value.attempts == 1
    assert len(sandbox.stats.snapshot()) == 2  # the health probe at startup, then exactly one request
    assert SECRET not in str(caught.value) and wrong not in str(caught.value)


def test_connection_errors_and_timeouts_are_retried_then_reported(start_sandbox):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with _client(f"http://127.0.0.1:{closed_port}", max_attempts=3, **FAST) as client:
        with pytest.raises(SourceRequestError) as refused:
            client.get(ORDER.path, FIRST_PAGE, interval=str(WINDOW))
        assert client.stats.transport_errors == 3
    assert refused.value.status is None and "ConnectError" in str(refused.value)

    slow = start_sandbox(SandboxConfig(faults=FaultConfig(latency_ms=400)))
    with _client(slow.url, max_attempts=2, timeout_seconds=0.1, **FAST) as client:
        with pytest.raises(SourceRequestError) as timed_out:
            client.get(ORDER.path, FIRST_PAGE, interval=str(WINDOW))
        assert client.stats.transport_errors == 2
    assert "Timeout" in str(timed_out.value) and timed_out.value.attempts == 2
