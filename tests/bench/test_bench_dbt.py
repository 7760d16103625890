"""Benchmark: the daily incremental ``dbt build`` against a full refresh, at 30, 90 and 180 days of history.

The goal (issue #6) is that the daily run stays flat as history grows: DWS models rebuild only the
day window, so their cost should not scale with history. ADS marts that are whole-history tables
(customer value, cohorts) do grow with history; the ratios below show how much. Each history lives in
its own database with every DWD table created from ``storage/sql`` and order items at the ``medium``
profile's scale (20,000 items a day, 200,000 customers, two marketplaces).

Prints ``bench:`` and ``ratio:`` lines (DESIGN.md §9); run with ``make bench``. A smoke run
(``MERCATOR_BENCH_SIZE=smoke``) builds only ``dws_marketplace_daily`` (and its staging view) over 7, 8
and 9 days of 100 items a day (just enough history for the DAG's 8-day window): a whole-project build
costs about a minute even when empty.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from ops.dbt_runner import build_day_range, run_dbt
from ops.pipeline import dwd_days
from ops.settings import Settings
from storage.bootstrap import ensure_databases, ensure_warehouse
from storage.warehouse import connect
from tests.bench.size import sized

# A full-size run takes minutes on an idle machine and can pass the suite-wide 900 s on a shared one.
pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600)]

SQL_DIR = Path(__file__).resolve().parents[2] / "storage" / "sql"
ITEMS_PER_DAY = sized(20_000, 100)
CUSTOMERS = 200_000
ASINS = 20_000
LAST_HISTORY_DAY = date(2025, 10, 31)
# Days, shortest to longest; the longest look-back of a mart is 45 days + the 8-day window.
HISTORIES = sized((30, 90, 180), (7, 8, 9))
SELECTED: tuple[str, ...] = sized((), ("+dws_marketplace_daily",))  # () = the whole project
MARKETPLACES = (("ATVPDKIKX0DER", "US", "Amazon.com", "USD"), ("A1PA6795UKMFR9", "DE", "Amazon.de", "EUR"))
COLUMNS = (
    "order_item_id, order_id, marketplace_id, marketplace, sales_channel, customer_key, asin, quantity,"
    " unit_price, item_amount, currency, channel_status, order_status, purchased_at, updated_at, ds"
)


def _day_rows(ds: date) -> list[tuple]:
    """One day of order items with long-tailed customers and ASINs (seeded by the day: reruns match)."""
    rng = np.random.default_rng(ds.toordinal())
    customers = np.minimum(rng.zipf(1.6, ITEMS_PER_DAY), CUSTOMERS)
    asins = np.minimum(rng.zipf(1.3, ITEMS_PER_DAY), ASINS)
    prices = np.round(rng.lognormal(3.0, 0.6, ITEMS_PER_DAY), 2)
    quantities = rng.integers(1, 4, ITEMS_PER_DAY)
    seconds = rng.integers(0, 86_400, ITEMS_PER_DAY)
    cancelled = rng.random(ITEMS_PER_DAY) < 0.03
    start = datetime(ds.year, ds.month, ds.day, tzinfo=UTC)
    rows = []
    for i in range(ITEMS_PER_DAY):
        marketplace_id, marketplace, channel, currency = MARKETPLACES[int(customers[i]) % 2]
        purchased = start + timedelta(seconds=int(seconds[i]))
        status = "cancelled" if cancelled[i] else "shipped"
        rows.append(
            (
                f"{ds:%Y%m%d}-{i:05d}",
                f"{ds:%Y%m%d}-{i // 2:05d}",
                marketplace_id,
                marketplace,
                channel,
                f"c{int(customers[i]):06d}",
                f"B0{int(asins[i]):08d}",
                int(quantities[i]),
                float(prices[i]),
                round(float(prices[i]) * int(quantities[i]), 2),
                currency,
                status.capitalize(),
                status,
                purchased,
                purchased + timedelta(hours=1),
                ds,
            )
        )
    return rows


def _insert_days(settings: Settings, days: list[date]) -> int:
    rows = 0
    with (
        connect(settings) as conn,
        conn.cursor() as cur,
        cur.copy(f"copy dwd.order_item ({COLUMNS}) from stdin") as copy,
    ):
        for ds in days:
            for row in _day_rows(ds):
                copy.write_row(row)
                rows += 1
    return rows


def _warehouse_with_history(settings: Settings, history_days: int) -> Settings:
    own = settings.model_copy(update={"pg_database": f"mercator_bench_dbt_{history_days}d"})
    ensure_databases(own, (own.pg_database,))
    ensure_warehouse(own.warehouse_url)
    with connect(own) as conn:
        for ddl in sorted(SQL_DIR.glob("dwd_*.sql")):
            conn.execute(ddl.read_text())
        conn.execute("truncate dwd.order_item")
    first = LAST_HISTORY_DAY - timedelta(days=history_days - 1)
    rows = _insert_days(own, [first + timedelta(days=n) for n in range(history_days)])
    print(f"\nbench: dbt_history_{history_days}d_rows: {rows} order items")
    return own


def _full_then_incremental(settings: Settings, history_days: int) -> tuple[float, float, int]:
    """Seconds of a full refresh, of the next day's DAG-shaped incremental build, and its DWS rows."""
    own = _warehouse_with_history(settings, history_days)
    run_dbt(own, ["parse"])  # the first invocation parses the whole project: keep it out of both timings
    started = time.monotonic()
    run_dbt(own, ["build", "--full-refresh", *(["--select", *SELECTED] if SELECTED else [])])
    full = time.monotonic() - started

    next_day = LAST_HISTORY_DAY + timedelta(days=1)
    _insert_days(own, [next_day])
    window = dwd_days(own, next_day, next_day)  # what the DAG's transform task rebuilds (look-back)
    started = time.monotonic()
    result = build_day_range(own, window[0], window[-1], select=SELECTED)
    incremental = time.monotonic() - started
    dws_rows = result.node("dws_marketplace_daily", "model").rows_affected or 0
    slowest = sorted(result.nodes, key=lambda node: node.execution_time, reverse=True)[:3]
    print(
        f"bench: dbt_{history_days}d slowest incremental nodes: "
        + ", ".join(f"{node.name} {node.execution_time:.1f}s" for node in slowest)
    )
    print(
        f"bench: dbt_{history_days}d: full refresh {full:.1f}s, incremental {incremental:.1f}s"
        f" ({len(window)}-day window, {len(result.nodes)} nodes, dws_marketplace_daily {dws_rows} rows)"
    )
    return full, incremental, dws_rows


def test_incremental_build_stays_flat_as_history_grows(settings: Settings) -> None:
    runs = {days: _full_then_incremental(settings, days) for days in HISTORIES}

    short, middle, long = HISTORIES
    # the DWS window is the same 8 days whatever the history: same rows rebuilt
    assert len({rows for _, _, rows in runs.values()}) == 1 and runs[short][2] > 0
    for days, (full, incremental, _) in runs.items():
        print(
            f"ratio: dbt_incremental_vs_full_{days}d: {incremental / full:.2f} (goal < 1, falls with history)"
        )
    incremental = {days: run[1] for days, run in runs.items()}
    print(
        f"ratio: dbt_incremental_{long}d_vs_{short}d: {incremental[long] / incremental[short]:.2f}"
        f" ({short} days is inside the marts' 45-day look-back, so this includes the look-back filling up)"
    )
    print(
        f"ratio: dbt_incremental_{long}d_vs_{middle}d: {incremental[long] / incremental[middle]:.2f}"
        " (goal <= 1.2: flat once history exceeds the longest look-back)"
    )
    print(
        f"ratio: dbt_full_{long}d_vs_{short}d: {runs[long][0] / runs[short][0]:.2f}"
        " (for scale: a full refresh grows)"
    )
