"""Orders follow the products and customers react to what they experienced (learnable, reported numbers).

- Breakout ASINs' share of order lines rises after their breakout; price cuts raise it, price rises lower it.
- A customer whose latest delivery arrived late, or who had a refund, drops out more often (observed: no
  order in the 60 days after the snapshot), within every purchase-frequency stratum (so it is not merely
  that frequent buyers see more parcels and churn less).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from connectors.sandbox import logistics, orders, refunds
from connectors.sandbox.asin_metrics import unit_price_cents
from connectors.sandbox.products import EDIT_PRICE, Products, listing_as_of, products

SEED = 42
FIRST, DAYS = date(2025, 3, 1), 120
SNAPSHOT = date(2025, 6, 1)
EPOCH = date(1970, 1, 1).toordinal()


@pytest.fixture(scope="module")
def line_share() -> np.ndarray:
    """Share of each ASIN in the day's order lines (day since FIRST, ASIN index)."""
    index = {asin: i for i, asin in enumerate(products(SEED, "small").asin)}
    lines = np.zeros((DAYS, len(index)))
    for k in range(DAYS):
        for order in orders.orders_for_day(SEED, FIRST + timedelta(days=k)):
            for item in order.items:
                lines[k, index[item.asin]] += 1
    return lines / lines.sum(axis=1, keepdims=True)


def _ratio(share: np.ndarray, events: list[tuple[int, int]], gap: int) -> float:
    """Pooled share in [day+gap, day+28) over (day-28, day-gap] for (ASIN, day since FIRST) events."""
    before = sum(share[d - 28 : d - gap + 1, i].sum() for i, d in events)
    after = sum(share[d + gap : d + 28, i].sum() for i, d in events)
    return after / before


def _inside(day: int) -> bool:
    return 28 <= day < DAYS - 28


def test_breakout_asins_sell_more_after_their_breakout(line_share: np.ndarray) -> None:
    p = products(SEED, "small")
    offset = p.breakout_ord - FIRST.toordinal()
    broke = [(i, int(offset[i])) for i in np.flatnonzero(p.breakout) if _inside(int(offset[i]))]
    calm = [(i, 60) for i in np.flatnonzero(~p.breakout & p.launched(FIRST.toordinal()))]
    breakout, control = _ratio(line_share, broke, 7), _ratio(line_share, calm, 7)
    print(f"\norder share after/before breakout: {breakout:.2f} ({len(broke)} ASINs), control {control:.2f}")
    assert len(broke) >= 15 and breakout > 2.0 and 0.8 < control < 1.25


def _price_changes(p: Products) -> dict[str, list[tuple[int, int]]]:
    """Catalog list-price edits inside the window, split into cuts (>5% down) and rises (>5% up)."""
    out: dict[str, list[tuple[int, int]]] = {"cut": [], "rise": []}
    for i, edits in enumerate(p.edits):
        for edit in (e for e in edits if e.kind == EDIT_PRICE):
            day = edit.at // 86_400 + EPOCH - FIRST.toordinal()
            before, after = listing_as_of(p, i, edit.at - 1), listing_as_of(p, i, edit.at)
            if before is None or not _inside(day):
                continue
            change = after.price_factor / before.price_factor
            if abs(change - 1) > 0.05:
                out["cut" if change < 1 else "rise"].append((i, day))
    return out


def test_a_catalog_price_cut_raises_demand_and_orders_pay_the_days_price(line_share: np.ndarray) -> None:
    changes = _price_changes(products(SEED, "small"))
    cut, rise = (_ratio(line_share, changes[k], 1) for k in ("cut", "rise"))
    print(f"\norder share after/before a price cut: {cut:.2f} ({len(changes['cut'])}), rise {rise:.2f}")
    assert len(changes["cut"]) >= 10 and cut > 1.25 and rise < 1.0
    day = FIRST + timedelta(days=40)
    prices = unit_price_cents(SEED, "small", day.toordinal())
    index = {asin: i for i, asin in enumerate(products(SEED, "small").asin)}
    for order in orders.orders_for_day(SEED, day):
        j = order.marketplace.marketplace_id != "ATVPDKIKX0DER"
        assert all(it.amount_cents == prices[int(j), index[it.asin]] * it.quantity for it in order.items)


def _experience_before(snapshot: date) -> tuple[dict[str, tuple[bool, bool, int]], set[str]]:
    """Per buyer with a delivery in the 45 days before ``snapshot``: (latest delivery late, had a refund,
    orders in those days); and the buyers who ordered in the 60 days from ``snapshot``."""
    cut = int(datetime(snapshot.year, snapshot.month, snapshot.day, tzinfo=UTC).timestamp())
    latest: dict[str, tuple[int, bool]] = {}
    refunded: set[str] = set()
    count: dict[str, int] = defaultdict(int)
    for k in range(45, 0, -1):
        day = snapshot - timedelta(days=k)
        buyer = {o.order_id: o.buyer[0] for o in orders.orders_for_day(SEED, day)}
        for b in buyer.values():
            count[b] += 1
        for s in logistics.shipments_for_day(SEED, day):
            b = buyer[s.order_id]
            if (
                s.delivered_at is not None
                and s.delivered_at < cut
                and latest.get(b, (0,))[0] < s.delivered_at
            ):
                latest[b] = (s.delivered_at, s.delay_days > 0)
        refunded |= {r.order.buyer[0] for r in refunds.refunds_for_day(SEED, day) if r.posted_at < cut}
    later = {o.buyer[0] for k in range(60) for o in orders.orders_for_day(SEED, snapshot + timedelta(days=k))}
    return {b: (late, b in refunded, count[b]) for b, (_, late) in latest.items()}, later


def _churn(buyers: list[str], later: set[str]) -> float:
    return float(np.mean([b not in later for b in buyers]))


def test_late_deliveries_and_refunds_raise_observed_churn_in_every_frequency_stratum() -> None:
    seen, later = _experience_before(SNAPSHOT)
    print()
    for flag, name in ((0, "latest delivery late"), (1, "had a refund")):
        hit = [b for b, e in seen.items() if e[flag]]
        rest = [b for b, e in seen.items() if not e[flag]]
        print(f"observed 60-day churn, {name}: {_churn(hit, later):.3f} vs {_churn(rest, later):.3f}")
        if flag == 0:  # refunds come with buying more, so only the strata compare like with like
            assert _churn(hit, later) > 1.4 * _churn(rest, later)
        for lo, hi in ((3, 8), (8, 20), (20, 10_000)):
            stratum = {b: e for b, e in seen.items() if lo <= e[2] < hi}
            hit = [b for b, e in stratum.items() if e[flag]]
            rest = [b for b, e in stratum.items() if not e[flag]]
            print(f"  {lo}-{hi} orders: {_churn(hit, later):.3f} ({len(hit)}) vs {_churn(rest, later):.3f}")
            assert len(hit) >= 30 and _churn(hit, later) > _churn(rest, later)
