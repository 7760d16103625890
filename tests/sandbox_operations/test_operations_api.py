"""The operations endpoints page every record exactly once, enforce auth and limits, and inject faults."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import httpx
import orjson
import pytest

from connectors.sandbox import ads, crm, logistics, shop_health
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.routes_operations import (
    ADS_HOURLY_PATH,
    CRM_EXPOSURES_PATH,
    SHIPMENTS_PATH,
    SHOP_HEALTH_PATH,
    TRACKING_EVENTS_PATH,
    TRUTH_PREFIX,
)
from connectors.sandbox.truth_operations import crm_truth

TOKEN = {"x-amz-access-token": "test-token"}
FAST = SandboxConfig(seed=42, rate_limit_per_second=1_000.0, rate_limit_burst=1_000)
LO, HI = datetime(2026, 2, 20, 6, tzinfo=UTC), datetime(2026, 2, 20, 9, tzinfo=UTC)
CRM_LO, CRM_HI = datetime(2025, 6, 5, tzinfo=UTC), datetime(2025, 6, 6, tzinfo=UTC)
DAY = date(2026, 2, 20)

# (path, first-page query, list key, expected records from the generator, record identity)
CASES = [
    (
        SHIPMENTS_PATH,
        {"updatedAfter": "2026-02-20T06:00:00Z", "updatedBefore": "2026-02-20T09:00:00Z"},
        "shipments",
        lambda: logistics.shipment_versions(42, LO, HI),
        lambda r: r["shipment_id"],
    ),
    (
        TRACKING_EVENTS_PATH,
        {"updatedAfter": "2026-02-20T06:00:00Z", "updatedBefore": "2026-02-20T09:00:00Z"},
        "events",
        lambda: logistics.tracking_events(42, LO, HI),
        lambda r: r["event_id"],
    ),
    (
        SHOP_HEALTH_PATH,
        {"date": "2026-02-20"},
        "shops",
        lambda: shop_health.shop_health_records(42, DAY),
        None,
    ),
    (ADS_HOURLY_PATH, {"date": "2026-02-20"}, "rows", lambda: list(ads.campaign_hours(42, DAY)), None),
    (
        CRM_EXPOSURES_PATH,
        {"sentAfter": "2025-06-05T00:00:00Z", "sentBefore": "2025-06-06T00:00:00Z"},
        "exposures",
        lambda: crm.exposures(42, CRM_LO, CRM_HI),
        lambda r: r["exposure_id"],
    ),
]


def _fetch_all(client: httpx.Client, path: str, query: dict, key: str, size: int) -> tuple[list[dict], int]:
    records, params, pages = [], {**query, "pageSize": str(size)}, 0
    while True:
        response = client.get(path, params=params, headers=TOKEN)
        assert response.status_code == 200, response.text
        assert response.headers["x-amzn-RateLimit-Limit"] == "1000"
        payload = response.json()
        records.extend(payload[key])
        pages += 1
        token = payload["pagination"].get("nextToken")
        if token is None:
            assert payload["numberOfResults"] == len(records)
            return records, pages
        params = {"pageToken": token, "pageSize": str(size)}


@pytest.mark.parametrize(("path", "query", "key", "expected", "identity"), CASES, ids=[c[0] for c in CASES])
def test_pages_cover_every_record_exactly_once(
    start_operations, path, query, key, expected, identity
) -> None:
    client = start_operations(FAST)
    want = expected()
    size = max(1, min(100, len(want) // 5))
    got, pages = _fetch_all(client, path, query, key, size)
    assert got == want and len(want) >= 8
    assert pages >= min(5, len(want) // size)
    if identity is not None:
        assert len({identity(r) for r in got}) == len(got)
    # Same request, same bytes: the first page is stable across calls and across servers.
    again = start_operations(FAST).get(path, params={**query, "pageSize": str(size)}, headers=TOKEN)
    first = client.get(path, params={**query, "pageSize": str(size)}, headers=TOKEN)
    assert again.content == first.content


def test_auth_is_required_on_every_endpoint_but_not_on_truth(start_operations) -> None:
    client = start_operations(
        SandboxConfig(access_token="secret", rate_limit_per_second=1_000.0, rate_limit_burst=1_000)
    )
    for path, query, *_ in CASES:
        assert client.get(path, params=query).status_code == 401
        assert client.get(path, params=query, headers={"x-amz-access-token": "wrong"}).status_code == 401
        assert client.get(path, params=query, headers={"x-amz-access-token": "secret"}).status_code == 200
    assert client.get(f"{TRUTH_PREFIX}/shop-health", params={"from": "2026-02-20"}).status_code == 200


def test_rate_limit_answers_429_with_retry_after(start_operations) -> None:
    client = start_operations(SandboxConfig(rate_limit_per_second=0.5, rate_limit_burst=2))
    statuses = [client.get(SHOP_HEALTH_PATH, params={"date": "2026-02-20"}, headers=TOKEN) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[2].headers["Retry-After"]) >= 1
    assert statuses[2].headers["x-amzn-RateLimit-Limit"] == "0.5"
    # Limits are per endpoint: the ads endpoint still has its own burst.
    assert client.get(ADS_HOURLY_PATH, params={"date": "2026-02-20"}, headers=TOKEN).status_code == 200


def test_bad_input_is_rejected_with_400(start_operations) -> None:
    client = start_operations(FAST)
    assert client.get(SHOP_HEALTH_PATH, params={"date": "2027-01-01"}, headers=TOKEN).status_code == 400
    assert client.get(ADS_HOURLY_PATH, params={"date": "yesterday"}, headers=TOKEN).status_code == 400
    too_wide = {"updatedAfter": "2026-02-01T00:00:00Z", "updatedBefore": "2026-02-20T00:00:00Z"}
    assert client.get(SHIPMENTS_PATH, params=too_wide, headers=TOKEN).status_code == 400
    assert client.get(CRM_EXPOSURES_PATH, params={"pageToken": "garbage"}, headers=TOKEN).status_code == 400
    assert client.get(f"{TRUTH_PREFIX}/crm", params={"experiment": "nope"}).status_code == 400


def test_faults_malform_and_duplicate_records_deterministically(start_operations) -> None:
    faults = FaultConfig(malformed_rate=0.1, duplicate_rate=0.1)
    config = SandboxConfig(seed=42, rate_limit_per_second=1_000.0, rate_limit_burst=1_000, faults=faults)
    query = {"date": "2026-02-20"}
    first, _ = _fetch_all(start_operations(config), ADS_HOURLY_PATH, query, "rows", 100)
    second, _ = _fetch_all(start_operations(config), ADS_HOURLY_PATH, query, "rows", 100)
    assert orjson.dumps(first) == orjson.dumps(second)
    clean = list(ads.campaign_hours(42, DAY))
    assert len(clean) < len(first) < 1.3 * len(clean)  # duplicates added
    broken = [r for r in first if "campaign_id" not in r or r["spend"] == "N/A" or r["clicks"] == -1]
    assert 0.03 * len(clean) < len(broken) < 0.2 * len(clean)
    counts = Counter(orjson.dumps(r) for r in first)
    assert max(counts.values()) == 2


def test_truth_endpoints_match_the_python_truth(start_operations) -> None:
    client = start_operations(FAST)
    crm_answer = client.get(f"{TRUTH_PREFIX}/crm", params={"experiment": "crm_winback_2025_06"}).json()
    truth = crm_truth(42, "crm_winback_2025_06")
    assert crm_answer["ate_repurchase"] == pytest.approx(truth.ate_repurchase)
    assert len(crm_answer["units"]) == len(truth.units)
    shops = client.get(
        f"{TRUTH_PREFIX}/shop-health", params={"from": "2026-02-15", "to": "2026-02-21"}
    ).json()
    assert any(d["below_red_line"] and d["cause"] == "spring_festival" for d in shops["shop_days"])
    episodes = client.get(f"{TRUTH_PREFIX}/ads/runaway-episodes").json()["episodes"]
    assert len(episodes) == len(ads.runaway_episodes(42))
    shipments = client.get(f"{TRUTH_PREFIX}/shipments", params={"from": "2026-02-14"}).json()["shipments"]
    assert len(shipments) == len(logistics.shipments_for_day(42, date(2026, 2, 14)))
    assert {"delay_days", "cause"} <= set(shipments[0])
