"""Refunds: deterministic per purchase day, caused by defects and late parcels, served as Finances."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np
import orjson
import pandas as pd

from connectors.sandbox import logistics, orders, refunds, returns
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.finances_api import FINANCES_PATH, RETURNS_PATH
from connectors.sandbox.products import products
from connectors.sandbox.server import sandbox_server
from connectors.sandbox.truth import refund_truth

SEED = 42
DAY = date(2025, 6, 10)
TOKEN = {"x-amz-access-token": "test-token"}
FAST = SandboxConfig(seed=SEED, rate_limit_per_second=1_000.0, rate_limit_burst=1_000)


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _clear_caches() -> None:
    for fn in (refunds.refunds_for_day, logistics.shipments_for_day, orders.orders_for_day):
        fn.cache_clear()


def _records(day: date) -> bytes:
    return orjson.dumps([r.record() for r in refunds.refunds_for_day(SEED, day)])


def test_a_purchase_days_refunds_are_deterministic_and_need_no_other_day() -> None:
    _clear_caches()
    alone = _records(DAY)
    _clear_caches()
    for back in (2, 1, 0):
        in_range = _records(DAY - timedelta(days=back))
    assert in_range == alone and len(refunds.refunds_for_day(SEED, DAY)) > 50
    other = orjson.dumps([r.record() for r in refunds.refunds_for_day(SEED + 1, DAY)])
    assert other != alone


def test_a_window_is_the_union_of_its_days_and_each_refund_matches_its_order() -> None:
    start = _utc(DAY)
    three = refunds.refund_events(SEED, start, start + timedelta(days=3))
    by_day = [
        r
        for k in range(3)
        for r in refunds.refund_events(SEED, start + timedelta(k), start + timedelta(k + 1))
    ]
    assert three == by_day and len({(r["AmazonOrderId"], r["PostedDate"]) for r in three}) == len(three)
    for refund in refunds.refunds_between(SEED, start, start + timedelta(days=1)):
        order = refund.order
        items = {i.order_item_id: i for i in order.items}
        shipment = next(
            s for s in logistics.shipments_for_day(SEED, _day_of(order)) if s.order_id == order.order_id
        )
        assert refund.posted_at > shipment.events[0].at  # refunds follow the shipment, never precede it
        assert refund.posted_at < order.purchased_at + refunds.REFUND_HORIZON_DAYS * 86_400
        for line, adjustment in zip(refund.lines, refund.record()["ShipmentItemAdjustmentList"], strict=True):
            principal = adjustment["ItemChargeAdjustmentList"][0]
            assert principal["ChargeType"] == "Principal"
            assert (
                round(-principal["ChargeAmount"]["CurrencyAmount"] * 100)
                == items[line.order_item_id].amount_cents
            )


def _day_of(order: orders.SandboxOrder) -> date:
    return datetime.fromtimestamp(order.purchased_at, UTC).date()


def test_defective_products_and_late_parcels_raise_the_observed_return_rate() -> None:
    p = products(SEED, "small")
    defective = dict(zip(p.asin, p.defective, strict=True))
    lines = {True: [0, 0], False: [0, 0]}  # defective -> [lines, refunded]
    parcels = {True: [0, 0], False: [0, 0]}  # late -> [orders, refunded]
    for k in range(14):
        day = date(2025, 5, 1) + timedelta(days=k)
        refunded = {r.order.order_id: r for r in refunds.refunds_for_day(SEED, day)}
        for shipment in logistics.shipments_for_day(SEED, day):
            late = shipment.delay_days is not None and shipment.delay_days > refunds.LATE_DAYS
            parcels[late][0] += 1
            parcels[late][1] += shipment.order_id in refunded
        for order in orders.orders_for_day(SEED, day):
            returned = {line.order_item_id for line in getattr(refunded.get(order.order_id), "lines", ())}
            for item in order.items:
                lines[bool(defective[item.asin])][0] += 1
                lines[bool(defective[item.asin])][1] += item.order_item_id in returned
    rate = {flag: refunded / total for flag, (total, refunded) in lines.items()}
    late_rate = {flag: refunded / total for flag, (total, refunded) in parcels.items()}
    print(f"\nrefund rate per line: defective {rate[True]:.3f}, other {rate[False]:.3f}")
    print(f"refund rate per parcel: late {late_rate[True]:.3f}, on time {late_rate[False]:.3f}")
    assert rate[True] > 4 * rate[False] and 0.01 < rate[False] < 0.06
    assert late_rate[True] > 1.5 * late_rate[False]


def test_truth_records_every_refunded_line_with_its_cause() -> None:
    start = _utc(DAY)
    truth = refund_truth(SEED, "small", start, start + timedelta(days=7))
    served = refunds.refund_events(SEED, start, start + timedelta(days=7))
    assert len(truth) == sum(len(r["ShipmentItemAdjustmentList"]) for r in served)
    assert set(truth.cause) == {"quality", "logistics", "other"}
    share = truth.groupby("is_defective_asin").cause.apply(lambda c: float(np.mean(c == "quality")))
    assert share[True] > 0.8 > share[False]


def _walk(client: httpx.Client, query: dict, size: int) -> tuple[list[bytes], int]:
    params, pages, bodies = {**query, "MaxResultsPerPage": str(size)}, 0, []
    while True:
        response = client.get(FINANCES_PATH, params=params, headers=TOKEN)
        assert response.status_code == 200, response.text
        assert response.headers["x-amzn-RateLimit-Limit"] == "1000"
        bodies.append(response.content)
        pages += 1
        token = response.json()["payload"].get("NextToken")
        if token is None:
            return bodies, pages
        params = {"NextToken": token, "MaxResultsPerPage": str(size)}


def test_finances_pages_hold_every_refund_once_byte_identical_across_servers() -> None:
    query = {"PostedAfter": "2025-06-10T00:00:00Z", "PostedBefore": "2025-06-11T00:00:00Z"}
    expected = refunds.refund_events(SEED, _utc(DAY), _utc(DAY) + timedelta(days=1))
    with (
        sandbox_server(FAST) as a,
        sandbox_server(FAST) as b,
        httpx.Client(base_url=a.url, timeout=60) as ca,
        httpx.Client(base_url=b.url, timeout=60) as cb,
    ):
        first, pages = _walk(ca, query, 17)
        again, _ = _walk(cb, query, 17)
        bad = ca.get(FINANCES_PATH, params={"PostedAfter": "yesterday"}, headers=TOKEN)
        denied = ca.get(FINANCES_PATH, params=query)
        truth = ca.get("/_truth/refunds", params=query)
    served = [
        r for body in first for r in orjson.loads(body)["payload"]["FinancialEvents"]["RefundEventList"]
    ]
    assert served == expected and pages == -(-len(expected) // 17) and first == again
    assert (bad.status_code, denied.status_code) == (400, 401)
    assert len(truth.json()) == sum(len(r["ShipmentItemAdjustmentList"]) for r in expected)


def test_finances_rate_limit_and_seeded_faults() -> None:
    query = {"PostedAfter": "2025-06-10T00:00:00Z", "MaxResultsPerPage": "5"}
    tight = SandboxConfig(seed=SEED, rate_limit_per_second=1.0, rate_limit_burst=2)
    faulty = SandboxConfig(
        seed=SEED,
        rate_limit_per_second=1_000.0,
        rate_limit_burst=1_000,
        faults=FaultConfig(malformed_rate=0.2, duplicate_rate=0.2),
    )
    with sandbox_server(tight) as limited, sandbox_server(faulty) as broken:
        statuses = [httpx.get(limited.url + FINANCES_PATH, params=query, headers=TOKEN) for _ in range(4)]
        with httpx.Client(base_url=broken.url, timeout=60) as client:
            runs = [_walk(client, {"PostedAfter": "2025-06-10T00:00:00Z"}, 50)[0] for _ in range(2)]
    throttled = [r for r in statuses if r.status_code == 429]
    assert throttled and all(int(r.headers["Retry-After"]) >= 1 for r in throttled)
    assert runs[0] == runs[1]  # the same records are malformed and duplicated on every fetch
    served = [
        r for body in runs[0] for r in orjson.loads(body)["payload"]["FinancialEvents"]["RefundEventList"]
    ]
    clean = refunds.refund_events(SEED, _utc(DAY), _utc(DAY) + timedelta(days=1))
    assert len(served) > len(clean) and sum(r not in clean for r in served) > 0


def test_returns_report_restates_refunds_with_noisy_reasons_that_track_the_true_cause() -> None:
    start = _utc(DAY)
    rows = returns.returns_between(SEED, start, start + timedelta(days=14))
    truth = refund_truth(SEED, "small", start, start + timedelta(days=14))
    lost = {
        r.order.order_id
        for r in refunds.refunds_between(SEED, start, start + timedelta(14))
        if not r.returned
    }
    assert len(rows) == int(
        (~truth.amazon_order_id.isin(lost)).sum()
    )  # every returned line once, no lost parcel
    joined = pd.DataFrame(rows).merge(
        truth, left_on=["order-id", "asin"], right_on=["amazon_order_id", "asin"], validate="one_to_one"
    )
    stated = joined.groupby("cause").reason.value_counts(normalize=True)
    print(f"\nstated reason given the true cause:\n{stated.round(2).to_string()}")
    quality = stated["quality"].reindex(["DEFECTIVE", "QUALITY_UNACCEPTABLE"]).sum()
    assert quality > 0.65 and stated["logistics"]["MISSED_ESTIMATED_DELIVERY"] > 0.45
    assert stated["other"].get("DEFECTIVE", 0.0) < 0.2 and stated["other"]["UNWANTED_ITEM"] > 0.4


def test_returns_endpoint_pages_every_row_once() -> None:
    query = {
        "returnedAfter": "2025-06-10T00:00:00Z",
        "returnedBefore": "2025-06-12T00:00:00Z",
        "pageSize": "40",
    }
    expected = returns.returns_between(SEED, _utc(DAY), _utc(DAY) + timedelta(days=2))
    served: list[dict] = []
    with sandbox_server(FAST) as sandbox, httpx.Client(base_url=sandbox.url, timeout=60) as client:
        params = dict(query)
        while True:
            body = client.get(RETURNS_PATH, params=params, headers=TOKEN).json()
            served.extend(body["returns"])
            if not (token := body["pagination"].get("nextToken")):
                break
            params = {"pageToken": token, "pageSize": "40"}
    assert served == expected and body["numberOfResults"] == len(expected) > 40
