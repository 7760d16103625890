"""A synthetic ``dwd.order_item`` history for training tests.

The history is drawn from a BG/NBD-like process (gamma purchase rates, a per-purchase drop-out chance
that differs by customer), so churn is learnable from recency *and* frequency and a model should beat the
recency rule.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg

START = date(2025, 5, 1)
DAYS = 120
AS_OF = START + timedelta(days=DAYS - 1)
N_CUSTOMERS = 3000
MARKETPLACES = (
    ("ATVPDKIKX0DER", "amazon.com", "USD"),
    ("A1F83G8C2ARO7P", "amazon.co.uk", "GBP"),
    ("A1PA6795UKMFR9", "amazon.de", "EUR"),
    ("A1VC38T7YXB528", "amazon.co.jp", "JPY"),
)
COLUMNS = (
    "order_item_id",
    "order_id",
    "marketplace_id",
    "marketplace",
    "sales_channel",
    "customer_key",
    "buyer_email_masked",
    "asin",
    "seller_sku",
    "quantity",
    "unit_price",
    "item_amount",
    "currency",
    "channel_status",
    "order_status",
    "purchased_at",
    "updated_at",
    "ds",
)


@dataclass(frozen=True)
class History:
    """What the synthetic history covers, for tests to pick snapshot dates."""

    start: date
    as_of: date
    rows: int
    customers: int


def customer_key(i: int) -> str:
    return hashlib.sha256(f"synthetic-customer-{i}".encode()).hexdigest()


def order_rows(
    cust: str,
    order_id: str,
    at: datetime,
    market: tuple[str, str, str],
    asins: list[str],
    status: str = "completed",
    updated_at: datetime | None = None,
    prices: list[float] | None = None,
) -> list[tuple]:
    """DWD rows for one order (one item per ASIN, quantity 1) — also used by tests to add known orders."""
    rows = []
    for n, asin in enumerate(asins):
        price = prices[n] if prices else 20.0
        rows.append(
            (
                f"{order_id}-{n}",
                order_id,
                market[0],
                market[1],
                "Amazon",
                cust,
                "j***@example.com",
                asin,
                f"SKU-{asin}",
                1,
                price,
                price,
                market[2],
                status.upper(),
                status,
                at,
                updated_at or at + timedelta(hours=2),
                at.date(),
            )
        )
    return rows


def synthetic_history(n_customers: int = N_CUSTOMERS, seed: int = 7) -> pd.DataFrame:
    """Order items for ``n_customers`` over DAYS days from ``START`` (seeded, deterministic)."""
    rng = np.random.default_rng(seed)
    asins = [f"B0{n:08d}" for n in range(300)]
    t0 = datetime.combine(START, datetime.min.time(), tzinfo=UTC)
    rows: list[tuple] = []
    for i in range(n_customers):
        cust = customer_key(i)
        home = int(rng.choice(4, p=[0.5, 0.2, 0.2, 0.1]))
        loyalty = rng.normal()  # latent: shows in basket size and spend, lowers the drop-out chance
        rate = rng.gamma(1.0, 0.12)  # orders per day while alive
        p_drop = min(rng.beta(1.5, 6.0) * np.exp(-1.0 * loyalty), 0.95)  # chance of leaving after an order
        t = rng.uniform(0, 15) if rng.random() < 0.6 else rng.uniform(0, DAYS - 10)
        n = 0
        while t < DAYS:
            at = t0 + timedelta(days=float(t))
            market = MARKETPLACES[home if rng.random() < 0.9 else int(rng.integers(4))]
            cancelled = rng.random() < 0.06
            status = "cancelled" if cancelled else ("completed" if t < DAYS - 10 else "shipped")
            items = list(rng.choice(asins, size=1 + rng.poisson(0.4 * np.exp(0.5 * loyalty))))
            prices = list(np.round(rng.lognormal(3.0 + 0.2 * loyalty, 0.5, size=len(items)), 2))
            rows += order_rows(
                cust,
                f"O{i:06d}-{n:03d}",
                at,
                market,
                items,
                status,
                at + timedelta(hours=float(rng.uniform(1, 30))),
                prices,
            )
            n += 1
            if rng.random() < (0.4 if cancelled else p_drop):  # a cancelled order drives customers away
                break
            t += rng.exponential(1.0 / rate)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def copy_rows(conn: psycopg.Connection, frame: pd.DataFrame) -> None:
    """Bulk-load order items with COPY (the loader's path), not row-by-row inserts."""
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False)
    with conn.cursor().copy(f"copy dwd.order_item ({', '.join(COLUMNS)}) from stdin (format csv)") as copy:
        copy.write(buffer.getvalue())
