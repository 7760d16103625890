"""Deterministic synthetic orders: any day from (seed, day) alone, served as SP-API Orders records.

Each day draws from its own numpy streams ``[seed, day.toordinal(), stream]``; customer and catalog
parameters are time-independent (see ``population``), so generating 2026-06-15 never touches 2026-06-14.
An order's status history spans at most five days, so the records that changed inside a window come from
the purchase days [window start - 5 days, window end].

Orders follow the products: each line's ASIN is drawn from the day's expected units of the ASIN demand
model (``asin_metrics.order_asin_weights``: momentum, drift, launches, stock-outs, the day's price) and is
charged the day's price. Orders placed shortly before a customer's triggered drop-out carry the trigger
(``population.Customers.trigger``): a late-delivery trigger delays the parcel (``logistics``), a quality
trigger puts a defective ASIN in the order, which is then likely returned (``refunds``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np

from connectors.sandbox.asin_metrics import order_asin_weights, unit_price_cents
from connectors.sandbox.formats import Q4_PEAK_FACTOR, iso_z, money, season_factor
from connectors.sandbox.population import CHURN_NATURAL, CHURN_QUALITY, catalog, customers
from connectors.sandbox.products import products
from connectors.sandbox.profiles import Marketplace, get_profile

__all__ = [
    "Q4_PEAK_FACTOR", "SandboxItem", "SandboxOrder", "iso_z", "money", "order_versions", "orders_for_day",
    "season_factor",
]  # fmt: skip

STREAM_ORDERS = 11
STREAM_ITEMS = 12
STREAM_STATUS = 13
STREAM_TRIGGER = 14

DAY_SECONDS = 86_400
HOUR = 3_600
MAX_STATUS_AGE_SECONDS = 5 * DAY_SECONDS - 1  # every status change happens within five days of purchase
STATUS_HORIZON_DAYS = 5

ORDER_STATUSES = (
    "Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled", "Unfulfillable",
    "InvoiceUnconfirmed", "PendingAvailability",
)  # fmt: skip
ITEMS_PER_ORDER_P = (0.70, 0.22, 0.08)
QUANTITY_P = (0.82, 0.14, 0.04)


@dataclass(frozen=True, slots=True)
class SandboxItem:
    order_item_id: str
    asin: str
    sku: str
    quantity: int
    amount_cents: int  # total for the quantity, as SP-API's ItemPrice


@dataclass(frozen=True, slots=True)
class SandboxOrder:
    """One order with its full status history (epoch seconds, status), oldest first."""

    order_id: str
    marketplace: Marketplace
    customer: int
    buyer: tuple[str, str, str, str]  # BuyerId, BuyerEmail, BuyerName, BuyerPhone
    purchased_at: int
    items: tuple[SandboxItem, ...]
    events: tuple[tuple[int, str], ...]
    trigger: int = CHURN_NATURAL  # population.CHURN_* bad experience planted on this order (truth only)

    @property
    def total_cents(self) -> int:
        return sum(item.amount_cents for item in self.items)

    def record(self, event_index: int) -> dict:
        """The SP-API record as of the ``event_index``-th status change."""
        updated_at, status = self.events[event_index]
        currency = self.marketplace.currency
        return {
            "AmazonOrderId": self.order_id,
            "PurchaseDate": iso_z(self.purchased_at),
            "LastUpdateDate": iso_z(updated_at),
            "OrderStatus": status,
            "MarketplaceId": self.marketplace.marketplace_id,
            "SalesChannel": self.marketplace.sales_channel,
            "BuyerInfo": {
                "BuyerId": self.buyer[0],
                "BuyerEmail": self.buyer[1],
                "BuyerName": self.buyer[2],
                "BuyerPhone": self.buyer[3],
            },
            "OrderTotal": {"CurrencyCode": currency, "Amount": money(self.total_cents)},
            "OrderItems": [
                {
                    "OrderItemId": item.order_item_id,
                    "ASIN": item.asin,
                    "SellerSKU": item.sku,
                    "QuantityOrdered": item.quantity,
                    "ItemPrice": {"CurrencyCode": currency, "Amount": money(item.amount_cents)},
                }
                for item in self.items
            ],
        }


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _status_history(purchased: int, path_u: float, split_u: float, n_items: int, g: np.ndarray) -> list:
    """Amazon's status vocabulary along one of a few plausible paths; g holds three uniforms."""
    hours = lambda lo, hi, x: int((lo + (hi - lo) * x) * HOUR)  # noqa: E731
    t = purchased
    events = [(t, "Pending")]
    if path_u < 0.030:
        return [*events, (t + hours(0.5, 24, g[0]), "Canceled")]
    if path_u < 0.035:
        return [*events, (t + hours(1, 24, g[0]), "Unfulfillable")]
    if path_u < 0.040:  # pre-order: waits for availability before it can ship
        t1 = t + hours(0.2, 2, g[0])
        t2 = t1 + hours(24, 48, g[1])
        return [
            *events,
            (t1, "PendingAvailability"),
            (t2, "Unshipped"),
            (t2 + hours(24, 48, g[2]), "Shipped"),
        ]
    t1 = t + hours(0.5, 8, g[0])
    events.append((t1, "Unshipped"))
    if path_u < 0.045:  # business order: shipped, invoice confirmed later
        t2 = t1 + hours(24, 72, g[1])
        return [*events, (t2, "InvoiceUnconfirmed"), (t2 + hours(1, 12, g[2]), "Shipped")]
    if n_items > 1 and split_u < 0.3:
        t2 = t1 + hours(12, 36, g[1])
        return [*events, (t2, "PartiallyShipped"), (t2 + hours(12, 36, g[2]), "Shipped")]
    return [*events, (t1 + hours(24, 72, g[1]), "Shipped")]


def _clip(events: list, purchased: int) -> tuple[tuple[int, str], ...]:
    out: list[tuple[int, str]] = []
    for ts, status in events:
        ts = min(ts, purchased + MAX_STATUS_AGE_SECONDS)
        if out and ts <= out[-1][0]:
            ts = out[-1][0] + 1
        out.append((ts, status))
    return tuple(out)


def _draw(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws of indices with probabilities ``weights`` from uniforms ``u`` (any shape)."""
    cdf = np.cumsum(weights)
    return np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), len(weights) - 1)


def _line_asins(
    weights: np.ndarray,
    mp_idx: np.ndarray,
    u: np.ndarray,
    defective: np.ndarray,
    trigger_u: np.ndarray,
    quality_trigger: np.ndarray,
) -> np.ndarray:
    """ASIN index of up to three lines per order, from its marketplace's demand; a quality-triggered order's
    first line is a defective ASIN (drawn by the same demand restricted to defective ones)."""
    asins = np.empty(u.shape, dtype=np.int64)
    for j in range(weights.shape[0]):
        rows = mp_idx == j
        asins[rows] = _draw(weights[j], u[rows])
        planted = rows & quality_trigger
        if planted.any():
            asins[planted, 0] = _draw(weights[j] * defective, trigger_u[planted])
    return asins


@lru_cache(maxsize=32)
def orders_for_day(seed: int, day: date, profile_name: str = "small") -> tuple[SandboxOrder, ...]:
    """Every order purchased on ``day`` (UTC), in purchase-time order; depends on no other day."""
    profile = get_profile(profile_name)
    people = customers(seed, profile_name)
    cat = catalog(seed, profile_name)
    ordinal = day.toordinal()

    weights = people.purchase_rate * people.active_mask(day)
    total = weights.sum()
    if total <= 0:
        return ()
    rng = np.random.default_rng([seed, ordinal, STREAM_ORDERS])
    intensity = weights * (profile.orders_per_day * season_factor(day) / total)
    counts = rng.poisson(intensity)
    buyers = np.repeat(np.arange(len(counts)), counts)
    seconds = rng.integers(0, DAY_SECONDS, size=len(buyers))
    order = np.argsort(seconds, kind="stable")
    buyers, seconds = buyers[order], seconds[order]
    n = len(buyers)
    mp_of = people.marketplace_idx[buyers]
    triggers = people.trigger(buyers, ordinal)

    items_rng = np.random.default_rng([seed, ordinal, STREAM_ITEMS])
    n_items = items_rng.choice(3, size=n, p=ITEMS_PER_ORDER_P) + 1
    line_u = items_rng.random((n, 3))
    quantities = items_rng.choice(3, size=(n, 3), p=QUANTITY_P) + 1
    trigger_u = np.random.default_rng([seed, ordinal, STREAM_TRIGGER]).random(n)
    asins = _line_asins(
        order_asin_weights(seed, profile_name, ordinal),
        mp_of,
        line_u,
        products(seed, profile_name).defective,
        trigger_u,
        triggers == CHURN_QUALITY,
    )
    prices = unit_price_cents(seed, profile_name, ordinal)

    status_rng = np.random.default_rng([seed, ordinal, STREAM_STATUS])
    path_u = status_rng.random(n)
    split_u = status_rng.random(n)
    gaps = status_rng.random((n, 3))

    start = _epoch(day)
    mid = ordinal % 10_000_000
    result = []
    for seq in range(n):
        cust = int(buyers[seq])
        mp_idx = int(mp_of[seq])
        mp = profile.marketplaces[mp_idx]
        items = []
        seen: set[int] = set()
        for k in range(int(n_items[seq])):
            a = int(asins[seq, k])
            if a in seen:  # one line per ASIN, as on a real order
                continue
            seen.add(a)
            qty = int(quantities[seq, k])
            items.append(
                SandboxItem(
                    order_item_id=f"{mid % 1_000_000:06d}{seq:06d}{k:02d}",
                    asin=cat.asin[a],
                    sku=cat.sku[a],
                    quantity=qty,
                    amount_cents=int(prices[mp_idx, a]) * qty,
                )
            )
        purchased = start + int(seconds[seq])
        history = _status_history(purchased, path_u[seq], split_u[seq], len(items), gaps[seq])
        result.append(
            SandboxOrder(
                order_id=f"{mp.order_prefix}-{mid:07d}-{(seq * 7_919_113 + seed) % 10_000_000:07d}",
                marketplace=mp,
                customer=cust,
                buyer=(people.buyer_id[cust], people.email[cust], people.name[cust], people.phone[cust]),
                purchased_at=purchased,
                items=tuple(items),
                events=_clip(history, purchased),
                trigger=int(triggers[seq]),
            )
        )
    return tuple(result)


def _days(first: date, last: date) -> Iterable[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def order_versions(
    seed: int,
    start: datetime,
    end: datetime,
    profile_name: str = "small",
    marketplace_ids: Iterable[str] | None = None,
) -> list[dict]:
    """What the Orders API serves for [start, end): each order that changed, as of its latest change.

    Sorted by (LastUpdateDate, AmazonOrderId) so pages over it are stable.
    """
    lo, hi = int(start.timestamp()), int(end.timestamp())
    if hi <= lo:
        return []
    wanted = set(marketplace_ids) if marketplace_ids is not None else None
    first_day = datetime.fromtimestamp(lo, UTC).date() - timedelta(days=STATUS_HORIZON_DAYS)
    last_day = datetime.fromtimestamp(hi - 1, UTC).date()
    versions: list[tuple[int, str, SandboxOrder, int]] = []
    for day in _days(first_day, last_day):
        for order in orders_for_day(seed, day, profile_name):
            if wanted is not None and order.marketplace.marketplace_id not in wanted:
                continue
            latest = -1
            for index, (ts, _status) in enumerate(order.events):
                if lo <= ts < hi:
                    latest = index
                elif ts >= hi:
                    break
            if latest >= 0:
                versions.append((order.events[latest][0], order.order_id, order, latest))
    versions.sort(key=lambda v: (v[0], v[1]))
    return [order.record(index) for _ts, _id, order, index in versions]
