"""What a raw record must look like to land; anything else is quarantined with a reason.

Reasons name fields, never values, so they can be logged and shared without leaking PII.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

AMAZON_ORDER_STATUSES = frozenset(
    {
        "Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled", "Unfulfillable",
        "InvoiceUnconfirmed", "PendingAvailability",
    }
)  # fmt: skip
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")

ORDER_FIELDS = frozenset(
    {
        "AmazonOrderId", "PurchaseDate", "LastUpdateDate", "OrderStatus", "MarketplaceId", "SalesChannel",
        "BuyerInfo", "BuyerInfo.BuyerId", "BuyerInfo.BuyerEmail", "BuyerInfo.BuyerName",
        "BuyerInfo.BuyerPhone",
        "OrderTotal", "OrderTotal.CurrencyCode", "OrderTotal.Amount",
        "OrderItems", "OrderItems[].OrderItemId", "OrderItems[].ASIN", "OrderItems[].SellerSKU",
        "OrderItems[].QuantityOrdered", "OrderItems[].ItemPrice", "OrderItems[].ItemPrice.CurrencyCode",
        "OrderItems[].ItemPrice.Amount",
    }
)  # fmt: skip


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (``Z`` allowed), else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _money_problem(money: Any, path: str) -> str | None:
    if not isinstance(money, Mapping):
        return f"{path} is not an object"
    if not isinstance(money.get("CurrencyCode"), str) or not _CURRENCY.fullmatch(money["CurrencyCode"]):
        return f"{path}.CurrencyCode is not a 3-letter currency code"
    if not isinstance(money.get("Amount"), str) or not _DECIMAL.fullmatch(money["Amount"]):
        return f"{path}.Amount is not a decimal string"
    return None


def _item_problem(item: Any, index: int) -> str | None:
    path = f"OrderItems[{index}]"
    if not isinstance(item, Mapping):
        return f"{path} is not an object"
    for key in ("OrderItemId", "ASIN"):
        if not _nonempty_str(item.get(key)):
            return f"missing {path}.{key}"
    quantity = item.get("QuantityOrdered")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        return f"{path}.QuantityOrdered is not a non-negative integer"
    if "ItemPrice" in item:
        return _money_problem(item["ItemPrice"], f"{path}.ItemPrice")
    return None


def validate_order(record: Any) -> str | None:
    """None if an SP-API order record can be typed downstream, else why not."""
    if not isinstance(record, Mapping):
        return "record is not a JSON object"
    for key in ("AmazonOrderId", "MarketplaceId"):
        if not _nonempty_str(record.get(key)):
            return f"missing {key}"
    for key in ("PurchaseDate", "LastUpdateDate"):
        if key not in record:
            return f"missing {key}"
        if parse_timestamp(record[key]) is None:
            return f"{key} is not an ISO 8601 date-time with zone"
    if "OrderStatus" not in record:
        return "missing OrderStatus"
    status = record["OrderStatus"]
    if not isinstance(status, str):
        return "OrderStatus is not a string"
    if status not in AMAZON_ORDER_STATUSES:
        return "OrderStatus is not in Amazon's status vocabulary"
    buyer = record.get("BuyerInfo")
    if not isinstance(buyer, Mapping) or not _nonempty_str(buyer.get("BuyerId")):
        return "missing BuyerInfo.BuyerId"
    if "OrderTotal" in record and (problem := _money_problem(record["OrderTotal"], "OrderTotal")):
        return problem
    items = record.get("OrderItems")
    if not isinstance(items, list) or not items:
        return "missing OrderItems"
    for index, item in enumerate(items):
        if problem := _item_problem(item, index):
            return problem
    return None


def field_paths(record: Mapping[str, Any], prefix: str = "", depth: int = 3) -> Iterable[str]:
    """Dotted paths of a record's fields (``OrderItems[].ASIN`` for lists of objects), for drift checks."""
    for key, value in record.items():
        path = f"{prefix}{key}"
        yield path
        if depth <= 1:
            continue
        if isinstance(value, Mapping):
            yield from field_paths(value, f"{path}.", depth - 1)
        elif isinstance(value, list):
            for element in value:
                if isinstance(element, Mapping):
                    yield from field_paths(element, f"{path}[].", depth - 1)
