"""Benchmark: how fast the sandbox serves a day of orders, and whether it can ever be the bottleneck.

For ``small`` and ``medium``: records/s served over HTTP to a bare httpx loop (limits lifted), the share
of that time spent generating the day, and the serving time as a fraction of the time the advertised
rate limit needs to hand out the same pages (goal: far below 1, so connectors never wait on the sandbox).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.orders import order_versions
from connectors.sandbox.server import sandbox_server

pytestmark = pytest.mark.bench

DAY = datetime(2025, 11, 3, tzinfo=UTC)
PAGE_SIZE = 100
ADVERTISED_RATE = 20.0  # requests/s the sandbox advertises by default (SandboxConfig.rate_limit_per_second)


def _fetch_all(url: str) -> tuple[int, int]:
    """Every page of the day's window with a bare client; returns (records, requests)."""
    params = {
        "MarketplaceIds": "ATVPDKIKX0DER,A1F83G8C2ARO7P",
        "LastUpdatedAfter": DAY.isoformat().replace("+00:00", "Z"),
        "LastUpdatedBefore": (DAY + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
        "MaxResultsPerPage": str(PAGE_SIZE),
    }
    records = requests = 0
    with httpx.Client(base_url=url, headers={"x-amz-access-token": "bench"}, timeout=60) as client:
        while True:
            response = client.get("/orders/v0/orders", params=params)
            response.raise_for_status()
            requests += 1
            payload = response.json()["payload"]
            records += len(payload["Orders"])
            if not payload.get("NextToken"):
                return records, requests
            params = {"NextToken": payload["NextToken"]}


@pytest.mark.parametrize("profile", ["small", "medium"])
def test_sandbox_serves_faster_than_the_rate_limit(profile: str):
    started = time.perf_counter()
    generated = order_versions(101, DAY, DAY + timedelta(days=1), profile)
    generation_s = time.perf_counter() - started

    config = SandboxConfig(seed=202, profile=profile, rate_limit_per_second=1e6, rate_limit_burst=1_000_000)
    with sandbox_server(config) as sandbox:
        started = time.perf_counter()
        records, requests = _fetch_all(sandbox.url)
        serving_s = time.perf_counter() - started

    assert records > 0 and abs(records - len(generated)) / len(generated) < 0.2
    allowed_s = requests / ADVERTISED_RATE
    print(f"\nbench: sandbox_orders_{profile}_records_per_s: {records / serving_s:.0f} records/s")
    print(f"bench: sandbox_orders_{profile}_day: {records} records in {requests} pages, {serving_s:.2f} s")
    print(f"ratio: sandbox_orders_{profile}_generation_share: {generation_s / serving_s:.2f} (goal < 1)")
    print(f"ratio: sandbox_orders_{profile}_serve_vs_rate_limit: {serving_s / allowed_s:.3f} (goal < 0.5)")
