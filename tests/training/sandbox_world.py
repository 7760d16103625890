"""A warehouse holding the sandbox marketplace's ASIN history, for the ranker's tests and benchmarks.

The generator's snapshots and orders are mapped straight into the DWD columns of storage/sql (what the
Spark jobs do, without paying for Spark), then dbt builds dws_asin_daily and the breakout baseline.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from connectors.sandbox.asin_metrics import snapshots_for_day
from connectors.sandbox.calendar import calendar_days
from connectors.sandbox.orders import orders_for_day
from ops.dbt_runner import run_dbt
from ops.settings import Settings
from spark_jobs.statuses import status_map
from tests.dbt.test_operator_marts import ORDER_COLUMNS, SNAPSHOT_COLUMNS, copy_rows

SEED = 42
PROFILE = "small"


def snapshot_rows(day: date) -> Iterator[tuple]:
    for r in snapshots_for_day(SEED, day, PROFILE):
        yield (
            r["asin"], r["marketplaceId"], day, r["bsr"], r["bsrCategory"], r["categoryRank"], r["category"],
            r["price"]["amount"], r["price"]["currencyCode"], r["rating"], r["reviewCount"], r["inStock"],
            r["buyBoxShare"], r["sessions"], r["pageViews"], day,
        )  # fmt: skip


def order_item_rows(day: date) -> Iterator[tuple]:
    amazon = status_map("amazon")
    for order in orders_for_day(SEED, day, PROFILE):
        at, status = order.events[-1]
        purchased = datetime.fromtimestamp(order.purchased_at, UTC)
        mp = order.marketplace
        for item in order.items:
            yield (
                item.order_item_id, order.order_id, mp.marketplace_id, mp.sales_channel, mp.sales_channel,
                order.buyer[0], item.asin, item.quantity, f"{item.amount_cents / 100 / item.quantity:.2f}",
                f"{item.amount_cents / 100:.2f}", mp.currency, status, amazon[status], purchased,
                datetime.fromtimestamp(at, UTC), day,
            )  # fmt: skip


def sandbox_asin_warehouse(own: Settings, first: date, last: date) -> Settings:
    """``own`` (a fresh warehouse database) with ``first..last`` of sandbox ASIN snapshots and orders,
    dbt-built up to the baseline."""
    days = calendar_days(first, last)
    copy_rows(own, "asin_daily_snapshot", SNAPSHOT_COLUMNS, [r for d in days for r in snapshot_rows(d)])
    copy_rows(own, "order_item", ORDER_COLUMNS, [r for d in days for r in order_item_rows(d)])
    run_dbt(own, ["run", "--select", "+ads_asin_breakout_baseline"])
    return own
