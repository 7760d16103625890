"""Benchmark: how fast the sandbox serves a day of every endpoint, and whether it can be the bottleneck.

For ``small`` and ``medium``, one server each, every paged endpoint, a bare httpx loop (limits lifted):

- *cold*: the first day a fresh server is asked for (2025-11-04). Serving includes generating the day and
  every history day it needs (5 days of orders, 40 of refunds, 51 of shipments, the review-count panel);
- *next day*: the day after on the same server (2025-11-05, a CRM send day), what a daily DAG run meets:
  only the new days are generated;
- *HTTP only*: the next day's pages fetched again, from the window cache.

Printed per endpoint: records/s for each, the time to generate the day after (in-process, history warm)
over the HTTP-only time of a day, and the next day's serving time over the time the advertised rate limit
(20 requests/s per endpoint) needs for the same pages. The goal for ``small``: a day is served well under
what the rate limits allow a connector, so the sandbox is never the bottleneck. A smoke run
(``MERCATOR_BENCH_SIZE=smoke``) serves ``small`` only and asserts no timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from connectors.sandbox import ads, crm, logistics, shop_health
from connectors.sandbox.asin_metrics import snapshots_for_day
from connectors.sandbox.catalog_items import catalog_versions
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.orders import order_versions
from connectors.sandbox.refunds import refund_events
from connectors.sandbox.returns import returns_between
from connectors.sandbox.reviews import reviews_between
from connectors.sandbox.server import sandbox_server
from tests.bench.size import SMOKE, sized

# The medium day takes minutes on an idle machine and can pass the suite-wide 900 s on a shared one.
pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600)]

COLD = date(2025, 11, 4)
MPS = "A1F83G8C2ARO7P,ATVPDKIKX0DER"
PAGE_SIZE = 100
ADVERTISED_RATE = 20.0  # requests/s the sandbox advertises by default (SandboxConfig.rate_limit_per_second)
SERVE_SEED = 202


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Case:
    """One endpoint's day: first-page query, where records and the next token are, and its generator."""

    name: str
    path: str
    query: Callable[[date], dict[str, str]]
    records: tuple[str, ...]
    generate: Callable[[int, str, date], int]  # (seed, profile, day) -> records of the day
    sp_api: bool = False  # SP-API envelope: payload.NextToken / NextToken, MaxResultsPerPage

    def next_params(self, body: dict, first: dict[str, str]) -> dict[str, str] | None:
        if self.sp_api:
            token = body["payload"].get("NextToken")
            return {"NextToken": token, "MaxResultsPerPage": str(PAGE_SIZE)} if token else None
        token = body["pagination"].get("nextToken")
        keep = {k: v for k, v in first.items() if k == "marketplaceIds"}
        return {**keep, "pageToken": token, "pageSize": str(PAGE_SIZE)} if token else None


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _end(day: date) -> datetime:
    return _start(day) + timedelta(days=1)


def _window(after: str, before: str, extra: dict[str, str] | None = None) -> Callable[[date], dict]:
    return lambda day: {**(extra or {}), after: _z(_start(day)), before: _z(_end(day))}


def _dated(extra: dict[str, str] | None = None) -> Callable[[date], dict]:
    return lambda day: {**(extra or {}), "date": day.isoformat()}


CASES = (
    Case(
        "orders", "/orders/v0/orders",
        _window("LastUpdatedAfter", "LastUpdatedBefore", {"MarketplaceIds": MPS}), ("payload", "Orders"),
        lambda s, p, d: len(order_versions(s, _start(d), _end(d), p)), sp_api=True,
    ),
    Case(
        "refunds", "/finances/v0/financialEvents", _window("PostedAfter", "PostedBefore"),
        ("payload", "FinancialEvents", "RefundEventList"),
        lambda s, p, d: len(refund_events(s, _start(d), _end(d), p)), sp_api=True,
    ),
    Case(
        "returns", "/reports/v1/fba-customer-returns", _window("returnedAfter", "returnedBefore"),
        ("returns",), lambda s, p, d: len(returns_between(s, _start(d), _end(d), p)),
    ),
    Case(
        "catalog", "/catalog/2022-04-01/items",
        _window("lastUpdatedAfter", "lastUpdatedBefore", {"marketplaceIds": MPS}), ("items",),
        lambda s, p, d: len(catalog_versions(s, int(_start(d).timestamp()), int(_end(d).timestamp()), p)),
    ),
    Case(
        "asin_metrics", "/asin-metrics/v1/daily", _dated({"marketplaceIds": MPS}), ("snapshots",),
        lambda s, p, d: len(snapshots_for_day(s, d, p)),
    ),
    Case(
        "reviews", "/reviews/v1/reviews", _window("postedAfter", "postedBefore", {"marketplaceIds": MPS}),
        ("reviews",), lambda s, p, d: len(reviews_between(s, _start(d), _end(d), p)),
    ),
    Case(
        "shipments", "/logistics/v1/shipments", _window("updatedAfter", "updatedBefore"), ("shipments",),
        lambda s, p, d: len(logistics.shipment_versions(s, _start(d), _end(d), p)),
    ),
    Case(
        "tracking_events", "/logistics/v1/tracking-events", _window("updatedAfter", "updatedBefore"),
        ("events",), lambda s, p, d: len(logistics.tracking_events(s, _start(d), _end(d), p)),
    ),
    Case(
        "shop_health", "/shop-health/v1/daily", _dated(), ("shops",),
        lambda s, p, d: len(shop_health.shop_health_records(s, d, p)),
    ),
    Case(
        "ads_hourly", "/ads/v1/campaigns/hourly", _dated(), ("rows",),
        lambda s, p, d: len(ads.campaign_hours(s, d, p)),
    ),
    Case(
        "crm_exposures", "/crm/v1/exposures", _window("sentAfter", "sentBefore"), ("exposures",),
        lambda s, p, d: len(crm.exposures(s, _start(d), _end(d), p)),
    ),
)  # fmt: skip


def _dig(body: dict, path: tuple[str, ...]) -> list:
    for key in path:
        body = body[key]
    return body  # type: ignore[return-value]


def _fetch_all(client: httpx.Client, case: Case, day: date) -> tuple[int, int, float]:
    """Every page of the case's day with a bare client; returns (records, requests, seconds)."""
    size_param = "MaxResultsPerPage" if case.sp_api else "pageSize"
    first = {**case.query(day), size_param: str(PAGE_SIZE)}
    params: dict[str, str] | None = first
    records = requests = 0
    started = time.perf_counter()
    while params is not None:
        response = client.get(case.path, params=params)
        response.raise_for_status()
        requests += 1
        body = response.json()
        records += len(_dig(body, case.records))
        params = case.next_params(body, first)
    return records, requests, time.perf_counter() - started


def _generation_seconds(case: Case, profile: str, day: date) -> float:
    """The day generated in-process after the server stopped: its history is warm, as on a server that
    served the day before (endpoints one after another, so a later one may reuse an earlier one's days)."""
    started = time.perf_counter()
    case.generate(SERVE_SEED, profile, day)
    return time.perf_counter() - started


@dataclass(frozen=True)
class Row:
    name: str
    cold: tuple[int, int, float]  # records, requests, seconds
    next_day: tuple[int, int, float]
    http_only: tuple[int, int, float]
    generation_s: float


def _report(profile: str, rows: list[Row]) -> tuple[float, float, float]:
    """Print every endpoint's numbers; returns (cold, next-day, allowed) seconds for the whole day."""
    for row in rows:
        key = f"sandbox_{row.name}_{profile}"
        records, requests, seconds = row.next_day
        http_s = row.http_only[2]
        print(
            f"\nbench: {key}_records_per_s: {records / seconds:.0f} records/s next day, "
            f"{records / http_s:.0f} HTTP only, {row.cold[0] / row.cold[2]:.0f} cold"
        )
        print(
            f"bench: {key}_day: {records} records in {requests} pages, {seconds:.2f} s "
            f"(cold day: {row.cold[2]:.2f} s)"
        )
        print(f"ratio: {key}_generation_vs_http: {row.generation_s / http_s:.2f} (generation / HTTP serving)")
        print(f"ratio: {key}_serve_vs_rate_limit: {seconds / (requests / ADVERTISED_RATE):.3f} (goal < 0.5)")
    cold = sum(r.cold[2] for r in rows)
    served = sum(r.next_day[2] for r in rows)
    pages = sum(r.next_day[1] for r in rows)
    allowed = pages / ADVERTISED_RATE
    print(
        f"bench: sandbox_all_{profile}_day: {sum(r.next_day[0] for r in rows)} records in {pages} pages "
        f"served in {served:.1f} s (HTTP only {sum(r.http_only[2] for r in rows):.1f} s, cold first day "
        f"{cold:.1f} s); the rate limits allow a connector {allowed:.1f} s for them one endpoint after "
        f"another, {max(r.next_day[1] for r in rows) / ADVERTISED_RATE:.1f} s all endpoints at once"
    )
    generation = sum(r.generation_s for r in rows)
    print(
        f"ratio: sandbox_all_{profile}_generation_vs_http: "
        f"{generation / sum(r.http_only[2] for r in rows):.2f} (a new day's generation / HTTP serving)"
    )
    return cold, served, allowed


@pytest.mark.parametrize("profile", sized(["small", "medium"], ["small"]))
def test_sandbox_serves_every_endpoint_faster_than_the_rate_limit(profile: str):
    config = SandboxConfig(
        seed=SERVE_SEED, profile=profile, rate_limit_per_second=1e6, rate_limit_burst=1_000_000
    )
    day = COLD + timedelta(days=1)
    with (
        sandbox_server(config) as sandbox,
        httpx.Client(base_url=sandbox.url, headers={"x-amz-access-token": "bench"}, timeout=900) as client,
    ):
        cold = [_fetch_all(client, case, COLD) for case in CASES]
        next_day = [_fetch_all(client, case, day) for case in CASES]
        http_only = [_fetch_all(client, case, day) for case in CASES]
    after = day + timedelta(days=1)  # not served yet: generating it costs what serving a new day does
    rows = [
        Row(case.name, c, n, h, _generation_seconds(case, profile, after))
        for case, c, n, h in zip(CASES, cold, next_day, http_only, strict=True)
    ]
    assert all(r.next_day[0] > 0 and r.next_day[:2] == r.http_only[:2] for r in rows)
    _cold, served, allowed = _report(profile, rows)
    if profile == "small" and not SMOKE:
        assert served < 0.5 * allowed  # the sandbox is never a connector's bottleneck
