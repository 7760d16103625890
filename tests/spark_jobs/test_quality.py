"""Great Expectations gate on DWD partitions: passes clean data, names every failure without PII."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from ops.quality.dwd import validate_dwd_partitions
from ops.quality.engine import DataQualityError


def replace(table: pa.Table, column: str, values: list) -> pa.Table:
    index = table.schema.get_field_index(column)
    return table.set_column(
        index, table.schema.field(index), pa.array(values, table.schema.field(index).type)
    )


def test_good_partitions_pass(lake_settings, dwd):
    days = [date(2025, 8, 1), date(2025, 8, 2)]
    for day in days:
        dwd.write("order_item", day, dwd.rows(day, 4))

    summary = validate_dwd_partitions(lake_settings, "order_item", days)

    assert summary.success and summary.expectations_evaluated == 22
    assert {d: r.rows for d, r in summary.partitions.items()} == {days[0]: 4, days[1]: 4}
    assert all(r.evaluated == 11 and not r.failures for r in summary.partitions.values())


def test_bad_status_and_negative_price_fail_naming_expectation_and_ds(lake_settings, dwd):
    good, bad = date(2025, 8, 3), date(2025, 8, 4)
    dwd.write("order_item", good, dwd.rows(good, 3))
    rows = dwd.rows(bad, 3)
    rows = replace(rows, "order_status", ["shipped", "teleported", "paid"])
    rows = replace(rows, "unit_price", [Decimal("4.50"), Decimal("4.50"), Decimal("-1.25")])
    dwd.write("order_item", bad, rows)

    with pytest.raises(DataQualityError) as err:
        validate_dwd_partitions(lake_settings, "order_item", [good, bad])

    message = str(err.value)
    assert "order_item ds=2025-08-04 (3 rows)" in message
    assert "expect_column_values_to_be_in_set [order_status in the unified state machine]" in message
    assert "'teleported'" in message
    assert "expect_column_values_to_be_between [unit_price >= 0]: 1 unexpected, e.g. -1.25" in message
    assert "ds=2025-08-03" not in message  # the good partition is not blamed
    failed = err.value.summary.failed
    assert [r.ds for r in failed] == [bad] and len(failed[0].failures) == 2


def test_pii_in_a_bad_value_is_redacted_and_a_date_mismatch_is_caught(lake_settings, dwd):
    """A missing day is skipped (listed), not blamed: lookback intervals reach past the first landed day."""
    day = date(2025, 8, 5)
    rows = dwd.rows(day, 3)
    rows = replace(
        rows, "customer_key", [rows["customer_key"][0].as_py(), "C0000123", rows["customer_key"][2].as_py()]
    )
    rows = replace(rows, "buyer_email_masked", ["abc123@marketplace.amazon.com", None, "b***@x.com"])
    dwd.write("order_item", day, rows)
    dwd.write("order_item", date(2025, 8, 6), dwd.rows(day, 2))  # purchased on 08-05, filed under 08-06

    with pytest.raises(DataQualityError) as err:
        validate_dwd_partitions(lake_settings, "order_item", [day, date(2025, 8, 6), date(2025, 8, 7)])

    message = str(err.value)
    assert "customer_key is a sha256 hex digest]: 1 unexpected, e.g. <redacted 8-char value>" in message
    assert "buyer_email_masked contains '***']: 1 unexpected" in message
    assert "C0000123" not in message and "abc123" not in message
    assert "order_item ds=2025-08-06 (2 rows)" in message and "purchased_at (UTC date) == ds" in message
    assert "ds=2025-08-07" not in message and err.value.summary.missing == (date(2025, 8, 7),)


def test_a_missing_column_is_reported_not_crashed_on(lake_settings, dwd):
    day = date(2025, 8, 8)
    rows = dwd.rows(day, 2)
    dwd.write("order_item", day, rows.drop_columns(["order_status"]))

    with pytest.raises(DataQualityError, match=r"ds=2025-08-08.*\n.*order_status.*could not be evaluated"):
        validate_dwd_partitions(lake_settings, "order_item", [day])
