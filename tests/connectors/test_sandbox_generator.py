"""The synthetic order generator: deterministic, day-addressable, plausible, with learnable customers."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from statistics import mean

import numpy as np

from connectors.sandbox.asin_metrics import unit_price_cents
from connectors.sandbox.orders import (
    MAX_STATUS_AGE_SECONDS,
    ORDER_STATUSES,
    order_versions,
    orders_for_day,
)
from connectors.sandbox.products import products
from connectors.sandbox.profiles import get_profile
from connectors.sandbox.truth import customer_truth, daily_rate_scale

SEED = 7
DAY = date(2025, 10, 14)


def _records(seed: int, day: date) -> list[dict]:
    return [order.record(len(order.events) - 1) for order in orders_for_day(seed, day)]


def test_same_seed_and_day_give_identical_records_and_other_seeds_differ():
    first = _records(SEED, DAY)
    orders_for_day.cache_clear()
    again = _records(SEED, DAY)
    assert first and first == again
    other_seed = _records(SEED + 1, DAY)
    assert [r["BuyerInfo"]["BuyerId"] for r in other_seed] != [r["BuyerInfo"]["BuyerId"] for r in first]


def test_a_day_is_generated_alone_and_does_not_depend_on_other_days():
    far = date(2026, 6, 15)
    orders_for_day.cache_clear()
    alone = orders_for_day(SEED, far)
    assert orders_for_day.cache_info().currsize == 1  # no history was generated to get there
    orders_for_day.cache_clear()
    previous = [orders_for_day(SEED, far - timedelta(days=k)) for k in (2, 1)]
    assert orders_for_day(SEED, far) == alone
    ids = {o.order_id for o in alone}
    assert all(ids.isdisjoint({o.order_id for o in day}) for day in previous)
    assert len({o.order_id for o in alone}) == len(alone)


def test_daily_volumes_are_plausible_and_q4_peaks():
    october = [len(orders_for_day(SEED, date(2025, 10, d))) for d in range(1, 15)]
    november = [len(orders_for_day(SEED, date(2025, 11, d))) for d in range(1, 15)]
    assert all(1_050 <= n <= 1_950 for n in october), october
    assert 1.35 < mean(november) / mean(october) < 1.65
    records = _records(SEED, DAY)
    assert {len(r["OrderItems"]) for r in records} == {1, 2, 3}
    channels = {(r["MarketplaceId"], r["SalesChannel"], r["OrderTotal"]["CurrencyCode"]) for r in records}
    assert channels == {("ATVPDKIKX0DER", "Amazon.com", "USD"), ("A1F83G8C2ARO7P", "Amazon.co.uk", "GBP")}


def test_status_histories_use_amazon_vocabulary_and_end_within_five_days():
    orders = [o for d in range(5) for o in orders_for_day(SEED, DAY + timedelta(days=d))]
    statuses = {status for o in orders for _ts, status in o.events}
    assert statuses == set(ORDER_STATUSES)
    assert all(o.events[0] == (o.purchased_at, "Pending") for o in orders)
    assert all(o.events[-1][0] - o.purchased_at <= MAX_STATUS_AGE_SECONDS for o in orders)
    assert all(a[0] < b[0] for o in orders for a, b in zip(o.events, o.events[1:], strict=False))
    canceled = sum(o.events[-1][1] == "Canceled" for o in orders) / len(orders)
    assert 0.02 < canceled < 0.045
    to_unshipped = [o.events[1][0] - o.purchased_at for o in orders if o.events[1][1] == "Unshipped"]
    assert max(to_unshipped) <= 8 * 3600


def test_orders_arrive_again_in_later_windows_as_late_updates():
    windows = {}
    for k in range(6):
        start = datetime.combine(DAY + timedelta(days=k), datetime.min.time(), tzinfo=UTC)
        windows[k] = order_versions(SEED, start, start + timedelta(days=1))
    purchased_day0 = {r["AmazonOrderId"] for r in windows[0] if r["PurchaseDate"].startswith(DAY.isoformat())}
    later = [purchased_day0 & {r["AmazonOrderId"] for r in windows[k]} for k in range(1, 6)]
    assert len(set().union(*later)) > 0.9 * len(purchased_day0)  # nearly all ship on a later day
    assert all(later[k] for k in range(3))
    assert not later[4]  # nothing changes more than five days after purchase
    for k in range(1, 4):
        for r in windows[k]:
            assert r["LastUpdateDate"].startswith((DAY + timedelta(days=k)).isoformat())
    a_late = next(iter(later[1]))
    versions = [r for k in range(6) for r in windows[k] if r["AmazonOrderId"] == a_late]
    assert len({r["LastUpdateDate"] for r in versions}) == len(versions) >= 2


def test_lines_pay_the_days_price_of_their_asin_and_totals_add_up():
    unit_prices: dict[tuple[str, str], set[int]] = defaultdict(set)
    index = {asin: i for i, asin in enumerate(products(SEED, "small").asin)}
    prices = unit_price_cents(SEED, "small", DAY.toordinal())
    for order in orders_for_day(SEED, DAY):
        record = order.record(0)
        total = 0
        for item in record["OrderItems"]:
            cents = round(float(item["ItemPrice"]["Amount"]) * 100)
            total += cents
            unit_prices[(record["MarketplaceId"], item["ASIN"])].add(cents // item["QuantityOrdered"])
            assert cents % item["QuantityOrdered"] == 0
            mp = int(record["MarketplaceId"] != "ATVPDKIKX0DER")
            assert cents // item["QuantityOrdered"] == prices[mp, index[item["ASIN"]]]  # the snapshot's price
        assert round(float(record["OrderTotal"]["Amount"]) * 100) == total
    assert all(len(prices) == 1 for prices in unit_prices.values())


def test_profiles_scale_by_ten_and_large_is_defined_without_being_generated():
    small, medium, large = (get_profile(name) for name in ("small", "medium", "large"))
    for bigger, factor in ((medium, 10), (large, 100)):
        assert bigger.marketplace_ids == small.marketplace_ids
        assert bigger.n_asins == factor * small.n_asins and bigger.n_customers == factor * small.n_customers
        assert bigger.orders_per_day == factor * small.orders_per_day


def test_customers_buy_only_while_active_with_stable_identity_and_rate_driven_frequency():
    truth = customer_truth(SEED).set_index("buyer_id")
    params = zip(truth.acquired_on, truth.drops_out_on, truth.marketplace_id, strict=True)
    latent = dict(zip(truth.index, params, strict=True))
    identity: dict[str, tuple] = {}
    counts: dict[str, int] = defaultdict(int)
    days = [date(2025, 9, 1) + timedelta(days=k) for k in range(30)]
    for day in days:
        for order in orders_for_day(SEED, day):
            buyer = order.buyer[0]
            acquired_on, drops_out_on, marketplace_id = latent[buyer]
            assert acquired_on <= day < drops_out_on
            assert marketplace_id == order.marketplace.marketplace_id
            assert identity.setdefault(buyer, order.buyer) == order.buyer
            counts[buyer] += 1
    always_active = truth[(truth.acquired_on <= days[0]) & (truth.drops_out_on > days[-1])]
    observed = np.array([counts.get(b, 0) for b in always_active.index])
    expected = always_active.purchase_rate.to_numpy() * sum(daily_rate_scale(SEED, d) for d in days)
    assert np.corrcoef(observed, expected)[0, 1] > 0.8
    assert abs(observed.sum() / expected.sum() - 1) < 0.05
    dropped = truth[(truth.drops_out_on > days[0]) & (truth.drops_out_on <= days[15])].index
    assert len(dropped) > 50  # drop-outs do happen inside a month, and they stop buying (asserted above)
