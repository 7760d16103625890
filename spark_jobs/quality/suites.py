"""What a valid DWD partition looks like, per entity, as plain data (no Great Expectations import).

Keeping the suites as data means they can be read, listed and reviewed without paying the ~9 s GX
import; :mod:`spark_jobs.quality.validate` turns them into GX expectations when it runs. The source
entities' suites are derived from their job specs in :mod:`spark_jobs.quality.entity_suites`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from spark_jobs.quality.engine import Check, Suite
from spark_jobs.statuses import UNIFIED_STATUSES

CURRENCIES: tuple[str, ...] = ("USD", "GBP", "EUR", "CNY", "JPY", "CAD", "BRL")
SHA256_HEX = r"^[0-9a-f]{64}$"


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


def suite_for(entity: str) -> Suite:
    """The suite of a DWD entity: hand-written for order items, derived from the job spec for the others."""
    if entity in SUITES:
        return SUITES[entity]
    from spark_jobs.quality.entity_suites import SOURCE_SUITES  # imports the Spark job specs

    if entity in SOURCE_SUITES:
        return SOURCE_SUITES[entity]
    raise KeyError(f"no DWD suite for entity {entity!r}; known: {sorted([*SUITES, *SOURCE_SUITES])}")
