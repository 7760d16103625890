"""The product endpoints over real HTTP: complete stable paging, auth, limits, seeded faults, truth."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import orjson

from connectors.sandbox.asin_metrics import snapshots_for_day
from connectors.sandbox.catalog_api import ASIN_METRICS_PATH, CATALOG_END, CATALOG_PATH, REVIEWS_PATH
from connectors.sandbox.catalog_items import catalog_versions
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.orders_api import ORDERS_PATH
from connectors.sandbox.reviews import reviews_between
from connectors.sandbox.truth import asin_momentum_truth

TOKEN = {"x-amz-access-token": "test-token"}
MARKETPLACES = "ATVPDKIKX0DER,A1F83G8C2ARO7P"
FAST = {"rate_limit_per_second": 5_000, "rate_limit_burst": 5_000}
DAY = "2025-10-14"
REVIEW_QUERY = {
    "marketplaceIds": MARKETPLACES,
    "postedAfter": "2025-10-10T00:00:00Z",
    "postedBefore": "2025-10-14T00:00:00Z",
    "pageSize": "100",
}
ENDPOINTS = [
    (CATALOG_PATH, "items", {"marketplaceIds": MARKETPLACES, "pageSize": "100"}),
    (ASIN_METRICS_PATH, "snapshots", {"marketplaceIds": MARKETPLACES, "date": DAY, "pageSize": "100"}),
    (REVIEWS_PATH, "reviews", REVIEW_QUERY),
]


def fetch_all(
    client: httpx.Client, path: str, list_key: str, params: dict[str, str]
) -> tuple[list[dict], list[bytes]]:
    """Follow ``pagination.nextToken`` to the end; returns the records and every page's bytes."""
    records: list[dict] = []
    bodies: list[bytes] = []
    query = dict(params)
    while True:
        response = client.get(path, params=query, headers=TOKEN)
        assert response.status_code == 200, response.text
        bodies.append(response.content)
        payload = response.json()
        records.extend(payload[list_key])
        token = payload["pagination"].get("nextToken")
        if token is None:
            return records, bodies
        query = {
            "marketplaceIds": params["marketplaceIds"],
            "pageToken": token,
            "pageSize": params["pageSize"],
        }


def test_every_record_is_served_exactly_once_and_page_tokens_are_stable(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(seed=3, **FAST))
    with httpx.Client(base_url=sandbox.url) as client:
        served = {path: fetch_all(client, path, key, params) for path, key, params in ENDPOINTS}
        token = orjson.loads(served[CATALOG_PATH][1][0])["pagination"]["nextToken"]
        again = client.get(CATALOG_PATH, params={"pageToken": token, "pageSize": "100"}, headers=TOKEN)
    assert again.content == served[CATALOG_PATH][1][1]
    assert served[CATALOG_PATH][0] == catalog_versions(3, None, CATALOG_END)
    assert len(served[CATALOG_PATH][1]) == 40
    assert served[ASIN_METRICS_PATH][0] == list(snapshots_for_day(3, date(2025, 10, 14)))
    reviews = reviews_between(3, datetime(2025, 10, 10, tzinfo=UTC), datetime(2025, 10, 14, tzinfo=UTC))
    assert served[REVIEWS_PATH][0] == [r.record() for r in reviews]
    for path, _key, _params in ENDPOINTS:
        records, bodies = served[path]
        first = orjson.loads(bodies[0])
        assert first["numberOfResults"] == len(records) and len(bodies) > 1
        ids = [orjson.dumps(r) for r in records]
        assert len(ids) == len(set(ids)), path


def test_incremental_catalog_window_and_marketplace_filter(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(seed=3, **FAST))
    params = {
        "marketplaceIds": "A1F83G8C2ARO7P",
        "lastUpdatedAfter": "2025-06-01T00:00:00Z",
        "lastUpdatedBefore": "2025-07-01T00:00:00Z",
        "pageSize": "50",
    }
    with httpx.Client(base_url=sandbox.url) as client:
        records, _ = fetch_all(client, CATALOG_PATH, "items", params)
    lo = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp())
    hi = int(datetime(2025, 7, 1, tzinfo=UTC).timestamp())
    assert records and records == catalog_versions(3, lo, hi, marketplace_ids=["A1F83G8C2ARO7P"])
    assert {r["marketplaceId"] for r in records} == {"A1F83G8C2ARO7P"}


def test_auth_and_bad_parameters_are_rejected_on_every_product_endpoint(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(access_token="the-token", **FAST))
    good = {"x-amz-access-token": "the-token"}
    bad_queries = {
        CATALOG_PATH: [
            {"marketplaceIds": "A1PA6795UKMFR9"},
            {"marketplaceIds": MARKETPLACES, "pageSize": "500"},
        ],
        ASIN_METRICS_PATH: [
            {"marketplaceIds": MARKETPLACES, "date": "2027-01-01"},
            {"marketplaceIds": MARKETPLACES},
        ],
        REVIEWS_PATH: [
            {**REVIEW_QUERY, "postedBefore": "2025-12-30T00:00:00Z"},
            {"marketplaceIds": MARKETPLACES, "pageToken": "not-a-token"},
        ],
    }
    with httpx.Client(base_url=sandbox.url) as client:
        for path, _key, params in ENDPOINTS:
            assert client.get(path, params=params).status_code == 401
            assert client.get(path, params=params, headers={"x-amz-access-token": "nope"}).status_code == 401
            assert client.get(path, params=params, headers=good).status_code == 200
            for query in bad_queries[path]:
                response = client.get(path, params=query, headers=good)
                assert response.status_code == 400, (path, query)
                assert response.json()["errors"][0]["code"] == "InvalidInput"


def test_each_endpoint_has_its_own_rate_limit_answered_with_429_and_retry_after(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(rate_limit_per_second=2, rate_limit_burst=3))
    with httpx.Client(base_url=sandbox.url) as client:
        for path, _key, params in ENDPOINTS:
            responses = [client.get(path, params=params, headers=TOKEN) for _ in range(6)]
            statuses = [r.status_code for r in responses]
            assert statuses[:3] == [200, 200, 200], path  # a fresh bucket per endpoint
            throttled = next(r for r in responses if r.status_code == 429)
            assert int(throttled.headers["Retry-After"]) >= 1
            assert throttled.headers["x-amzn-RateLimit-Limit"] == "2"
            assert responses[0].headers["x-amzn-RateLimit-Limit"] == "2"
        orders = {"MarketplaceIds": MARKETPLACES, "LastUpdatedAfter": "2025-10-14T10:00:00Z"}
        assert client.get(ORDERS_PATH, params=orders, headers=TOKEN).status_code == 200


def test_faults_are_seeded_malformed_and_duplicate_records_repeat_on_every_run(start_sandbox):
    faults = FaultConfig(error_5xx_rate=0.3, throttle_429_rate=0.2, malformed_rate=0.05, duplicate_rate=0.05)
    config = SandboxConfig(seed=5, faults=faults, **FAST)
    runs = []
    for _ in range(2):
        sandbox = start_sandbox(config)
        with httpx.Client(base_url=sandbox.url) as client:
            statuses = [
                client.get(REVIEWS_PATH, params=REVIEW_QUERY, headers=TOKEN).status_code for _ in range(12)
            ]
            clean = client.get(REVIEWS_PATH, params=REVIEW_QUERY, headers=TOKEN)
            while clean.status_code != 200:
                clean = client.get(REVIEWS_PATH, params=REVIEW_QUERY, headers=TOKEN)
        runs.append((statuses, clean.content))
    assert runs[0] == runs[1]
    statuses, body = runs[0]
    assert {500, 503} & set(statuses) and 429 in statuses and 200 in statuses
    served = orjson.loads(body)["reviews"]
    broken = [
        r
        for r in served
        if "reviewId" not in r or not isinstance(r["rating"], int) or "Z" not in r["postedAt"]
    ]
    assert broken
    ids = [r.get("reviewId") for r in served if "reviewId" in r]
    assert len(ids) > len(set(ids))


def test_truth_endpoints_answer_without_auth_and_match_the_python_truth(start_sandbox):
    sandbox = start_sandbox(SandboxConfig(seed=3, access_token="secret", **FAST))
    with httpx.Client(base_url=sandbox.url) as client:
        momentum = client.get("/_truth/asin-momentum", params={"marketplaceIds": MARKETPLACES, "date": DAY})
        causes = client.get("/_truth/review-causes", params=REVIEW_QUERY)
        bad = client.get("/_truth/asin-momentum", params={"marketplaceIds": MARKETPLACES, "date": "x"})
    assert momentum.status_code == 200 and causes.status_code == 200 and bad.status_code == 400
    expected = asin_momentum_truth(3, "small", date(2025, 10, 14))
    rows = momentum.json()
    assert len(rows) == len(expected)
    assert sum(r["breakout_grade"] for r in rows) == int(expected["breakout_grade"].sum())
    reviews = reviews_between(3, datetime(2025, 10, 10, tzinfo=UTC), datetime(2025, 10, 14, tzinfo=UTC))
    assert [r["review_id"] for r in causes.json()] == [r.review_id for r in reviews]
    assert [r["cause"] for r in causes.json()] == [r.cause for r in reviews]
