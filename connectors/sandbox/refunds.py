"""Refunds (returns) of shipped orders, served as SP-API Finances ``RefundEventList`` events.

Each shipped order line may be returned and refunded, for one of three causes whose hazards add up:
- ``quality``: ``QUALITY_BASE + QUALITY_SLOPE * (1 - quality)^2``, plus ``DEFECTIVE_RETURN`` when the ASIN
  is defective (``products.defective``), and ``TRIGGERED_RETURN`` on the defective line a quality churn
  trigger planted (``orders``): that return is the bad experience the customer leaves after;
- ``logistics``: ``LATE_RETURN`` when the parcel arrived over ``LATE_DAYS`` late, every line when it was lost;
- ``other``: ``OTHER_RETURN`` (unwanted, ordered by mistake).
One refund event per order refunds its returned lines, ``RETURN_DAYS`` after delivery (or after the parcel
was declared lost), never later than ``REFUND_HORIZON_DAYS`` after purchase. Draws come from the purchase
day's stream and the shipment of that day, so a day's refunds never depend on another purchase day.

Amazon's ``OrderStatus`` has no refunded or returned value (a refund never changes an SP-API order), so
refunds are their own feed in the Finances vocabulary: ``ChargeType`` ``Principal`` (negative: money back
to the buyer) and ``FeeType`` ``Commission`` (the referral fee Amazon gives back) and ``RefundCommission``
(what Amazon keeps for processing the refund).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np

from connectors.sandbox.formats import iso_z
from connectors.sandbox.logistics import Shipment, shipments_for_day
from connectors.sandbox.orders import SandboxOrder, orders_for_day
from connectors.sandbox.population import CHURN_QUALITY
from connectors.sandbox.products import products

STREAM_REFUNDS = 61
DAY = 86_400
REFUND_HORIZON_DAYS = 40  # every refund is posted within 40 days of purchase
OTHER_RETURN = 0.015
QUALITY_BASE, QUALITY_SLOPE = 0.005, 0.10
DEFECTIVE_RETURN = 0.22
TRIGGERED_RETURN = 0.85
LATE_DAYS, LATE_RETURN = 3.0, 0.12
RETURN_DAYS = (4.0, 21.0)  # delivery (or loss) to refund: the buyer ships it back, the FC receives it
REFERRAL_FEE = 0.15  # Amazon's referral fee; refunded to the seller minus the refund administration fee
REFUND_ADMIN_SHARE, REFUND_ADMIN_CAP_CENTS = 0.20, 500

CAUSE_QUALITY, CAUSE_LOGISTICS, CAUSE_OTHER = "quality", "logistics", "other"


@dataclass(frozen=True, slots=True)
class RefundLine:
    """One refunded order line and its true cause."""

    order_item_id: str
    asin: str
    sku: str
    quantity: int
    amount_cents: int
    cause: str


@dataclass(frozen=True, slots=True)
class Refund:
    """One refund event (an order's returned lines) as posted, with truth on its lines."""

    order: SandboxOrder
    posted_at: int
    lines: tuple[RefundLine, ...]
    returned: bool = True  # False: the parcel was lost, refunded without a return

    def record(self) -> dict:
        """The ``RefundEventList`` entry (an SP-API Finances ``ShipmentEvent``)."""
        currency = self.order.marketplace.currency
        return {
            "AmazonOrderId": self.order.order_id,
            "SellerOrderId": self.order.order_id,
            "MarketplaceName": self.order.marketplace.sales_channel,
            "PostedDate": iso_z(self.posted_at),
            "ShipmentItemAdjustmentList": [_adjustment(line, currency) for line in self.lines],
        }


def _amount(cents: int, currency: str) -> dict:
    return {"CurrencyCode": currency, "CurrencyAmount": round(cents / 100, 2)}


def _adjustment(line: RefundLine, currency: str) -> dict:
    commission = round(line.amount_cents * REFERRAL_FEE)
    admin = min(round(commission * REFUND_ADMIN_SHARE), REFUND_ADMIN_CAP_CENTS)
    return {
        "OrderItemId": line.order_item_id,
        "OrderAdjustmentItemId": f"R{line.order_item_id}",
        "SellerSKU": line.sku,
        "ASIN": line.asin,
        "QuantityShipped": line.quantity,
        "ItemChargeAdjustmentList": [
            {"ChargeType": "Principal", "ChargeAmount": _amount(-line.amount_cents, currency)}
        ],
        "ItemFeeAdjustmentList": [
            {"FeeType": "Commission", "FeeAmount": _amount(commission, currency)},
            {"FeeType": "RefundCommission", "FeeAmount": _amount(-admin, currency)},
        ],
    }


def _line_hazards(
    quality: float, defective: bool, planted: bool, delay: float | None
) -> tuple[float, float, float]:
    """(quality, logistics, other) return probabilities of one line; they add up to at most 1."""
    if delay is None:  # lost: every line is refunded, for logistics
        return 0.0, 1.0, 0.0
    q = TRIGGERED_RETURN if planted else QUALITY_BASE + QUALITY_SLOPE * (1 - quality) ** 2
    q += 0.0 if planted else DEFECTIVE_RETURN * defective
    late = LATE_RETURN if delay > LATE_DAYS else 0.0
    return q, late, OTHER_RETURN


def _cause(u: float, hazards: tuple[float, float, float]) -> str | None:
    """Which hazard (if any) the uniform ``u`` falls in: one draw decides both whether and why."""
    edge = 0.0
    for cause, h in zip((CAUSE_QUALITY, CAUSE_LOGISTICS, CAUSE_OTHER), hazards, strict=True):
        edge += h
        if u < edge:
            return cause
    return None


def _refund(order: SandboxOrder, shipment: Shipment, u: np.ndarray, seed: int, profile: str) -> Refund | None:
    """The refund of one shipped order (None when nothing was returned); ``u`` holds four uniforms."""
    p = products(seed, profile)
    index = _asin_index(seed, profile)
    lines = []
    for k, item in enumerate(order.items):
        i = index[item.asin]
        planted = k == 0 and order.trigger == CHURN_QUALITY
        hazards = _line_hazards(float(p.quality[i]), bool(p.defective[i]), planted, shipment.delay_days)
        cause = _cause(float(u[k]), hazards)
        if cause is not None:
            lines.append(
                RefundLine(item.order_item_id, item.asin, item.sku, item.quantity, item.amount_cents, cause)
            )
    if not lines:
        return None
    returned_from = shipment.delivered_at if shipment.delivered_at is not None else shipment.events[-1].at
    lo, hi = RETURN_DAYS
    posted = returned_from + int((lo + (hi - lo) * float(u[3])) * DAY)
    latest = order.purchased_at + REFUND_HORIZON_DAYS * DAY - 1
    return Refund(order, min(posted, latest), tuple(lines), shipment.delivered_at is not None)


@lru_cache(maxsize=8)
def _asin_index(seed: int, profile_name: str) -> dict[str, int]:
    return {asin: i for i, asin in enumerate(products(seed, profile_name).asin)}


@lru_cache(maxsize=256)
def refunds_for_day(seed: int, day: date, profile_name: str = "small") -> tuple[Refund, ...]:
    """Refunds of the orders purchased on ``day``, in order-id order; depends on no other purchase day."""
    shipments = {s.order_id: s for s in shipments_for_day(seed, day, profile_name)}
    orders = [o for o in orders_for_day(seed, day, profile_name) if o.order_id in shipments]
    uniforms = np.random.default_rng([seed, day.toordinal(), STREAM_REFUNDS]).random((len(orders), 4))
    found = (
        _refund(order, shipments[order.order_id], u, seed, profile_name)
        for order, u in zip(orders, uniforms, strict=True)
    )
    return tuple(sorted((r for r in found if r is not None), key=lambda r: r.order.order_id))


def _purchase_days(lo: int, hi: int) -> Iterable[date]:
    first = datetime.fromtimestamp(lo, UTC).date() - timedelta(days=REFUND_HORIZON_DAYS)
    last = datetime.fromtimestamp(hi - 1, UTC).date()
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def refunds_between(seed: int, start: datetime, end: datetime, profile_name: str = "small") -> list[Refund]:
    """Every refund posted in [start, end), sorted by (PostedDate, AmazonOrderId) so pages are stable."""
    lo, hi = int(start.timestamp()), int(end.timestamp())
    found = [
        r
        for day in _purchase_days(lo, hi)
        for r in refunds_for_day(seed, day, profile_name)
        if lo <= r.posted_at < hi
    ]
    return sorted(found, key=lambda r: (r.posted_at, r.order.order_id))


def refund_events(seed: int, start: datetime, end: datetime, profile_name: str = "small") -> list[dict]:
    """What the Finances endpoint serves for a ``PostedAfter``/``PostedBefore`` window."""
    return [r.record() for r in refunds_between(seed, start, end, profile_name)]
