"""Seeded fault decisions and record corruption, so faulty runs are reproducible."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

CORRUPTIONS = ("missing_order_id", "non_numeric_amount", "bad_purchase_date")


@dataclass(frozen=True)
class FaultDice:
    """Uniform [0, 1) numbers hashed from (seed, kind, key): the same question always gets the same answer."""

    seed: int

    def roll(self, kind: str, key: str) -> float:
        digest = hashlib.blake2b(f"{self.seed}|{kind}|{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2.0**64


def corrupt(record: dict, how: str) -> dict:
    """A copy of the record broken the way real feeds break (never touching LastUpdateDate or items)."""
    broken = dict(record)
    if how == "missing_order_id":
        broken.pop("AmazonOrderId", None)
    elif how == "non_numeric_amount":
        broken["OrderTotal"] = {**record["OrderTotal"], "Amount": "N/A"}
    elif how == "bad_purchase_date":
        broken["PurchaseDate"] = "31/11/2025 25:61"
    else:
        raise ValueError(f"unknown corruption {how!r}")
    return broken


def negate_first_item_price(record: dict) -> dict:
    """A copy whose first item has a negative price (refund-style sign error in a seller's feed)."""
    items = [dict(item) for item in record["OrderItems"]]
    price = items[0]["ItemPrice"]
    items[0]["ItemPrice"] = {**price, "Amount": "-" + price["Amount"].lstrip("-")}
    return {**record, "OrderItems": items}
