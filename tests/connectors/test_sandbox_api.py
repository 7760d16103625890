"""The sandbox's HTTP API behaves like SP-API Orders: auth, stable paging, limits and seeded faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import orjson

from connectors.orders import ORDER
from connectors.sandbox.app import ORDERS_PATH
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.orders import order_versions

START = datetime(2025, 10, 14, 10, tzinfo=UTC)
END = START + timedelta(hours=2)
MARKETPLACES = "ATVPDKIKX0DER,A1F83G8C2ARO7P"
QUERY = {
    "MarketplaceIds": MARKETPLACES,
    "LastUpdatedAfter": "2025-10-14T10:00:00Z",
    "LastUpdatedBefore": "2025-10-14T12:00:00Z",
    "MaxResultsPerPage": "50",
}
TOKEN = {"x-amz-access-token": "test-token"}


def _fetch_all(client: httpx.Client) -> tuple[list[dict], list[bytes]]:
    records, bodies, params = [], [], dict(QUERY)
    while True:
        response = client.get(ORDERS_PATH, params=params, headers=TOKEN)
        assert response.status_code == 200, response.text
        bodies.append(response.content)
        payload = response.json()["payload"]
        records.extend(payload["Orders"])
        if "NextToken" not in payload:
            return records, bodies
        params = {
            "MarketplaceIds": MARKETPLACES,
            "MaxResultsPerPage": "50",
            "NextToken": payload["NextToken"],
        }


def test_pages_reproduce_the_generator_window_and_tokens_are_stable(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(seed=3, rate_limit_per_second=1000, rate_limit_burst=1000))
    with httpx.Client(base_url=sandbox.url) as client:
        records, bodies = _fetch_all(client)
        first = client.get(ORDERS_PATH, params=QUERY, headers=TOKEN)
        token = first.json()["payload"]["NextToken"]
        page2 = {"MarketplaceIds": MARKETPLACES, "MaxResultsPerPage": "50", "NextToken": token}
        assert client.get(ORDERS_PATH, params=page2, headers=TOKEN).content == bodies[1]
    assert records == order_versions(3, START, END)
    assert len(bodies) >= 3
    assert first.headers["x-amzn-RateLimit-Limit"] == "1000"
    assert first.headers["content-type"] == "application/json"


def test_requests_without_the_right_token_or_with_bad_parameters_are_rejected(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(access_token="the-token"))
    with httpx.Client(base_url=sandbox.url) as client:
        assert client.get(ORDERS_PATH, params=QUERY).status_code == 401
        assert (
            client.get(ORDERS_PATH, params=QUERY, headers={"x-amz-access-token": "nope"}).status_code == 401
        )
        good = {"x-amz-access-token": "the-token"}
        assert client.get(ORDERS_PATH, params=QUERY, headers=good).status_code == 200
        bad_queries = [
            {**QUERY, "LastUpdatedAfter": "yesterday"},
            {**QUERY, "MarketplaceIds": "A1PA6795UKMFR9"},
            {**QUERY, "MaxResultsPerPage": "500"},
            {"MarketplaceIds": MARKETPLACES, "NextToken": "not-a-token"},
        ]
        for query in bad_queries:
            response = client.get(ORDERS_PATH, params=query, headers=good)
            assert response.status_code == 400, query
            assert response.json()["errors"][0]["code"] == "InvalidInput"


def test_the_endpoint_rate_limit_answers_429_with_retry_after(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(rate_limit_per_second=2, rate_limit_burst=3))
    with httpx.Client(base_url=sandbox.url) as client:
        responses = [client.get(ORDERS_PATH, params=QUERY, headers=TOKEN) for _ in range(6)]
    statuses = [r.status_code for r in responses]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses[3:]
    throttled = next(r for r in responses if r.status_code == 429)
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.headers["x-amzn-RateLimit-Limit"] == "2"
    assert sandbox.stats.status_counts(ORDERS_PATH)[429] == statuses.count(429)


def test_faults_are_seeded_so_two_runs_see_the_same_ones(start_sandbox):
    faults = FaultConfig(error_5xx_rate=0.3, throttle_429_rate=0.2, malformed_rate=0.05, duplicate_rate=0.05)
    config = SandboxConfig(seed=5, rate_limit_per_second=1000, rate_limit_burst=1000, faults=faults)
    runs = []
    for _ in range(2):
        sandbox = start_sandbox(config)
        with httpx.Client(base_url=sandbox.url) as client:
            statuses = [client.get(ORDERS_PATH, params=QUERY, headers=TOKEN).status_code for _ in range(12)]
            clean = client.get(ORDERS_PATH, params=QUERY, headers=TOKEN)
            while clean.status_code != 200:  # a retry of the same page eventually passes the dice
                clean = client.get(ORDERS_PATH, params=QUERY, headers=TOKEN)
        runs.append((statuses, clean.content))
    assert runs[0] == runs[1]
    statuses, body = runs[0]
    assert {500, 503} & set(statuses) and 429 in statuses and 200 in statuses
    served = orjson.loads(body)["payload"]["Orders"]
    reasons = [ORDER.schema.validate(r) for r in served]
    assert any(reasons)  # malformed records are part of the data, identical on every fetch
    keys = [(r.get("AmazonOrderId"), r["LastUpdateDate"]) for r in served]
    assert len(keys) > len(set(keys))  # and so are duplicates
