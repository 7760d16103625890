"""Customer returns in the vocabulary of Amazon's FBA customer returns report, a second view of refunds.

Every refunded line whose parcel arrived is returned to a fulfilment centre the day its refund is posted
(a lost parcel is refunded but never returned). The buyer's stated ``reason`` and the centre's
``detailed-disposition`` are report codes drawn from the line's true cause (``refunds``) with noise, so
they are an observable, imperfect signal of it: a quality return is usually ``DEFECTIVE`` or
``QUALITY_UNACCEPTABLE`` but sometimes ``UNWANTED_ITEM``; a logistics one is usually
``MISSED_ESTIMATED_DELIVERY``. Draws hash (seed, order item), so they need no stream and no other day.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from connectors.sandbox.formats import iso_z
from connectors.sandbox.refunds import (
    CAUSE_LOGISTICS,
    CAUSE_OTHER,
    CAUSE_QUALITY,
    Refund,
    RefundLine,
    refunds_between,
)

# Stated reasons per true cause (codes of the FBA customer returns report) and their probabilities.
REASONS: dict[str, tuple[tuple[str, float], ...]] = {
    CAUSE_QUALITY: (
        ("DEFECTIVE", 0.45), ("QUALITY_UNACCEPTABLE", 0.30), ("NOT_AS_DESCRIBED", 0.15),
        ("UNWANTED_ITEM", 0.10),
    ),
    CAUSE_LOGISTICS: (
        ("MISSED_ESTIMATED_DELIVERY", 0.60), ("DAMAGED_BY_CARRIER", 0.20), ("UNWANTED_ITEM", 0.20),
    ),
    CAUSE_OTHER: (
        ("UNWANTED_ITEM", 0.50), ("ORDERED_WRONG_ITEM", 0.25), ("NO_REASON_GIVEN", 0.15), ("DEFECTIVE", 0.10),
    ),
}  # fmt: skip
DISPOSITIONS: dict[str, tuple[tuple[str, float], ...]] = {
    CAUSE_QUALITY: (("DEFECTIVE", 0.70), ("CUSTOMER_DAMAGED", 0.15), ("SELLABLE", 0.15)),
    CAUSE_LOGISTICS: (("SELLABLE", 0.65), ("CARRIER_DAMAGED", 0.35)),
    CAUSE_OTHER: (("SELLABLE", 0.80), ("CUSTOMER_DAMAGED", 0.20)),
}
FULFILMENT_CENTRES = {"US": ("ONT8", "LGB3", "ABE2", "MDW2"), "UK": ("LTN1", "BHX4")}


def _uniform(seed: int, kind: str, key: str) -> float:
    digest = hashlib.blake2b(f"{seed}|{kind}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _pick(options: tuple[tuple[str, float], ...], u: float) -> str:
    edge = 0.0
    for code, p in options:
        edge += p
        if u < edge:
            return code
    return options[-1][0]


def _record(seed: int, refund: Refund, line: RefundLine) -> dict:
    key = line.order_item_id
    centres = FULFILMENT_CENTRES[refund.order.marketplace.country]
    disposition = _pick(DISPOSITIONS[line.cause], _uniform(seed, "disposition", key))
    return {
        "return-date": iso_z(refund.posted_at),
        "order-id": refund.order.order_id,
        "marketplace-id": refund.order.marketplace.marketplace_id,
        "sku": line.sku,
        "asin": line.asin,
        "quantity": line.quantity,
        "fulfillment-center-id": centres[int(_uniform(seed, "fc", key) * len(centres))],
        "detailed-disposition": disposition,
        "reason": _pick(REASONS[line.cause], _uniform(seed, "reason", key)),
        "status": "Unit returned to inventory" if disposition == "SELLABLE" else "Reimbursed",
        "license-plate-number": "LPN" + hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=5).hexdigest(),
    }


def returns_between(seed: int, start: datetime, end: datetime, profile_name: str = "small") -> list[dict]:
    """Report rows of the lines returned in [start, end), in (return-date, order-id, line) order."""
    return [
        _record(seed, refund, line)
        for refund in refunds_between(seed, start, end, profile_name)
        if refund.returned
        for line in refund.lines
    ]
