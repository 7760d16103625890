"""Reads the ranker's history from the warehouse: dws_asin_daily days with a snapshot and a category,
each with that day's robust z-score baseline row (ads_asin_breakout_baseline)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import pandas as pd
import psycopg
from psycopg import sql

from training.ranker.features import HISTORY_COLUMNS

SOURCE_TABLE = "dws.dws_asin_daily"
BASELINE_TABLE = "ads.ads_asin_breakout_baseline"

_HISTORY_SQL = """copy (
select d.asin, d.marketplace_id, d.category, d.ds, d.units, d.review_count, d.bsr, d.category_rank,
       d.price::float8 as price, d.is_in_stock, d.sessions, d.listing_rating::float8 as listing_rating,
       b.baseline_score::float8 as baseline_score, b.peer_rank, b.peer_asins
from dws.dws_asin_daily d
left join ads.ads_asin_breakout_baseline b
    on b.asin = d.asin and b.marketplace_id = d.marketplace_id and b.ds = d.ds
where d.has_snapshot and d.category is not null and d.bsr is not null
  and d.ds between {first} and {last}
  and ({marketplaces}::text[] is null or d.marketplace_id = any({marketplaces}::text[]))
) to stdout (format csv, header)
"""


def data_span(conn: psycopg.Connection) -> tuple[date | None, date | None]:
    """First and last day with an ASIN snapshot."""
    row = conn.execute("select min(ds), max(ds) from dws.dws_asin_daily where has_snapshot").fetchone()
    return (row[0], row[1]) if row else (None, None)


def load_history(
    conn: psycopg.Connection, first: date, last: date, marketplaces: Sequence[str] | None = None
) -> pd.DataFrame:
    """History rows in ``[first, last]``, optionally only the given marketplaces (the source filter)."""
    query = sql.SQL(_HISTORY_SQL).format(
        first=sql.Literal(first),
        last=sql.Literal(last),
        marketplaces=sql.Literal(list(marketplaces) if marketplaces else None),
    )
    buffer = io.BytesIO()
    with conn.cursor() as cur, cur.copy(query) as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    # COPY + read_csv: several times faster than fetching ~400k rows as tuples
    frame = pd.read_csv(
        buffer, dtype={"asin": str, "marketplace_id": str, "category": str}, parse_dates=["ds"]
    )
    numeric = [
        c for c in HISTORY_COLUMNS if c not in ("asin", "marketplace_id", "category", "ds", "is_in_stock")
    ]
    frame[numeric] = frame[numeric].astype("float64")
    frame["is_in_stock"] = frame["is_in_stock"].map({"t": True, "f": False}).astype(bool)
    return frame
