"""What a valid DWD partition looks like, per entity, as plain data (no Great Expectations import).

Keeping the suites as data means they can be read, listed and reviewed without paying the ~9 s GX
import; :mod:`ops.quality.dwd` turns them into GX expectations when it runs. The source
entities' suites are derived from their job specs in :mod:`ops.quality.entity_suites`; the gate
finds either through :func:`ops.quality.dwd.suite_for`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from ops.quality.engine import Check, Suite
from spark_jobs.statuses import UNIFIED_STATUSES

CURRENCIES: tuple[str, ...] = ("USD", "GBP", "EUR", "CNY", "JPY", "CAD", "BRL")
SHA256_HEX = r"^[0-9a-f]{64}$"


def _purchased_on(frame: pd.DataFrame) -> pd.Series:
    return frame["purchased_at"].dt.tz_convert("UTC").dt.date


def _order_level_checks() -> tuple[Check, ...]:
    """What every row of an order entity (an item or a header) carries from its order."""
    return (
        Check(
            "ExpectColumnValuesToBeInSet",
            {"column": "order_status", "value_set": list(UNIFIED_STATUSES)},
            "order_status in the unified state machine",
        ),
        Check(
            "ExpectColumnValuesToBeInSet",
            {"column": "currency", "value_set": list(CURRENCIES)},
            f"currency in {', '.join(CURRENCIES)}",
        ),
        Check(
            "ExpectColumnValuesToMatchRegex",
            {"column": "customer_key", "regex": SHA256_HEX},
            "customer_key is a sha256 hex digest",
            sensitive=True,
        ),
        Check(
            # Nulls are allowed (no email); GX column-map expectations skip them.
            "ExpectColumnValuesToMatchRegex",
            {"column": "buyer_email_masked", "regex": r"\*\*\*"},
            "buyer_email_masked contains '***'",
            sensitive=True,
        ),
        Check(
            "ExpectColumnPairValuesToBeEqual",
            {"column_A": "purchased_on", "column_B": "ds"},
            "purchased_at (UTC date) == ds",
        ),
    )


def _key_checks(key: str) -> tuple[Check, ...]:
    return (
        Check("ExpectTableRowCountToBeBetween", {"min_value": 1}, "row count > 0"),
        Check("ExpectColumnValuesToNotBeNull", {"column": key}, f"{key} not null"),
        Check("ExpectColumnValuesToBeUnique", {"column": key}, f"{key} unique"),
    )


ORDER_ITEM = Suite(
    checks=(
        *_key_checks("order_item_id"),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "quantity", "min_value": 1, "max_value": 10_000},
            "quantity between 1 and 10000",
        ),
        Check("ExpectColumnValuesToBeBetween", {"column": "unit_price", "min_value": 0}, "unit_price >= 0"),
        Check("ExpectColumnValuesToBeBetween", {"column": "item_amount", "min_value": 0}, "item_amount >= 0"),
        *_order_level_checks(),
    ),
    derived=MappingProxyType({"purchased_on": _purchased_on}),
)

ORDERS = Suite(
    checks=(
        *_key_checks("order_id"),
        Check("ExpectColumnValuesToBeBetween", {"column": "item_count", "min_value": 1}, "item_count >= 1"),
        Check(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "units", "column_B": "item_count", "or_equal": True},
            "units >= item_count (every item has quantity >= 1)",
        ),
        Check(
            "ExpectColumnValuesToBeBetween", {"column": "order_amount", "min_value": 0}, "order_amount >= 0"
        ),
        Check(
            "ExpectColumnPairValuesToBeEqual",
            {"column_A": "is_cancelled", "column_B": "cancelled_by_status"},
            "is_cancelled == (order_status is cancelled)",
        ),
        *_order_level_checks(),
    ),
    derived=MappingProxyType(
        {"purchased_on": _purchased_on, "cancelled_by_status": lambda f: f["order_status"] == "cancelled"}
    ),
)

# Hand-written suites of the order entities (the flat entities' are derived from their job specs).
ORDER_SUITES: Mapping[str, Suite] = MappingProxyType({"order_item": ORDER_ITEM, "orders": ORDERS})
