"""What a valid DWD partition looks like, per entity, as plain data (no Great Expectations import).

Keeping the suites as data means they can be read, listed and reviewed without paying the ~9 s GX
import; :mod:`spark_jobs.quality.validate` turns them into GX expectations when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd

from spark_jobs.statuses import UNIFIED_STATUSES

CURRENCIES: tuple[str, ...] = ("USD", "GBP", "EUR", "CNY", "JPY", "CAD", "BRL")
SHA256_HEX = r"^[0-9a-f]{64}$"


@dataclass(frozen=True)
class Check:
    """One expectation: the GX class name, its arguments, and a label people recognise in an alert.

    ``sensitive`` checks guard PII handling; if they fail, the offending value may be clear-text PII,
    so error messages show its length only.
    """

    expectation: str
    kwargs: Mapping[str, Any]
    label: str
    sensitive: bool = False


@dataclass(frozen=True)
class Suite:
    checks: tuple[Check, ...]
    # Columns computed before validation, for rules GX's pandas engine cannot state directly.
    derived: Mapping[str, Callable[[pd.DataFrame], pd.Series]] = field(default_factory=dict)


def _purchased_on(frame: pd.DataFrame) -> pd.Series:
    return frame["purchased_at"].dt.tz_convert("UTC").dt.date


ORDER_ITEM = Suite(
    checks=(
        Check("ExpectTableRowCountToBeBetween", {"min_value": 1}, "row count > 0"),
        Check("ExpectColumnValuesToNotBeNull", {"column": "order_item_id"}, "order_item_id not null"),
        Check("ExpectColumnValuesToBeUnique", {"column": "order_item_id"}, "order_item_id unique"),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "quantity", "min_value": 1, "max_value": 10_000},
            "quantity between 1 and 10000",
        ),
        Check("ExpectColumnValuesToBeBetween", {"column": "unit_price", "min_value": 0}, "unit_price >= 0"),
        Check("ExpectColumnValuesToBeBetween", {"column": "item_amount", "min_value": 0}, "item_amount >= 0"),
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
    ),
    derived=MappingProxyType({"purchased_on": _purchased_on}),
)

SUITES: Mapping[str, Suite] = MappingProxyType({"order_item": ORDER_ITEM})
