"""Point-in-time churn features per customer at a snapshot date S, read from ``dwd.order_item``.

Point-in-time means nothing observed at or after S 00:00 UTC reaches a feature: only items purchased
before S count, and a cancellation counts only if it was recorded (``updated_at``) before S; DWD keeps the
latest version of each item, so a later cancellation must not rewrite the past. The label looks forward:
a customer churned at S if they make no non-cancelled purchase in ``[S, S + horizon)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import psycopg

from ops.settings import Settings
from storage.warehouse import connect
from training.factory.splits import InsufficientHistoryError

log = logging.getLogger(__name__)

FEATURE_SET_VERSION = "churn_features_v1"
SOURCE_TABLE = "dwd.order_item"
CANCELLED_STATUS = "cancelled"

FEATURE_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "tenure_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "avg_days_between_orders",
    "overdue_ratio",
    "orders_last_30d",
    "orders_last_90d",
    "monetary_last_30d",
    "units",
    "distinct_asins",
    "distinct_marketplaces",
    "top_marketplace_share",
    "items_per_order",
    "cancelled_order_share",
)

# Items known at S: purchased before S; cancelled only if the cancellation was recorded before S.
_FEATURES_SQL = """
with known as (
    select customer_key, order_id, marketplace, asin, quantity, item_amount, purchased_at,
           (order_status = %(cancelled)s and updated_at < %(snapshot)s) as is_cancelled
    from dwd.order_item
    where purchased_at < %(snapshot)s
),
history as (
    select * from known where not is_cancelled
),
cancels as (
    select customer_key,
           (count(distinct order_id) filter (where is_cancelled))::float8 / count(distinct order_id)
               as cancelled_order_share
    from known
    group by customer_key
),
orders as (
    select customer_key, order_id, min(marketplace) as marketplace, min(purchased_at) as purchased_at,
           sum(item_amount)::float8 as amount
    from history
    group by customer_key, order_id
),
per_customer as (
    select customer_key,
           count(*) as frequency,
           sum(amount) as monetary,
           min(purchased_at) as first_at,
           max(purchased_at) as last_at,
           count(*) filter (where purchased_at >= %(snapshot)s - interval '30 days') as orders_last_30d,
           count(*) filter (where purchased_at >= %(snapshot)s - interval '90 days') as orders_last_90d,
           coalesce(sum(amount) filter (where purchased_at >= %(snapshot)s - interval '30 days'), 0)
               as monetary_last_30d
    from orders
    group by customer_key
),
per_item as (
    select customer_key, sum(quantity) as units, count(*) as item_lines,
           count(distinct asin) as distinct_asins
    from history
    group by customer_key
),
per_market as (
    select customer_key, count(*) as distinct_marketplaces, max(n)::float8 / sum(n) as top_marketplace_share
    from (select customer_key, marketplace, count(*) as n from orders group by 1, 2) m
    group by customer_key
),
features as (
    select c.customer_key,
           extract(epoch from %(snapshot)s - c.last_at)::float8 / 86400 as recency_days,
           extract(epoch from %(snapshot)s - c.first_at)::float8 / 86400 as tenure_days,
           c.frequency::float8 as frequency,
           c.monetary,
           c.monetary / c.frequency as avg_order_value,
           case when c.frequency > 1
                then extract(epoch from c.last_at - c.first_at)::float8 / 86400 / (c.frequency - 1) end
               as avg_days_between_orders,
           c.orders_last_30d::float8 as orders_last_30d,
           c.orders_last_90d::float8 as orders_last_90d,
           c.monetary_last_30d,
           i.units::float8 as units,
           i.distinct_asins::float8 as distinct_asins,
           m.distinct_marketplaces::float8 as distinct_marketplaces,
           m.top_marketplace_share,
           i.item_lines::float8 / c.frequency as items_per_order,
           k.cancelled_order_share
    from per_customer c
    join per_item i using (customer_key)
    join per_market m using (customer_key)
    join cancels k using (customer_key)
)
"""

_FEATURE_SELECT = """
select customer_key, {columns},
       recency_days / nullif(avg_days_between_orders, 0) as overdue_ratio
from features
""".format(columns=", ".join(c for c in FEATURE_COLUMNS if c != "overdue_ratio"))

_LABEL_JOIN = """
left join (
    select distinct customer_key
    from dwd.order_item
    where purchased_at >= %(snapshot)s and purchased_at < %(window_end)s and order_status <> %(cancelled)s
) future using (customer_key)
"""


@dataclass(frozen=True)
class DataSpan:
    """First and last purchase dates in the source (UTC dates), None when it is empty."""

    first: date | None
    last: date | None


def snapshot_start(snapshot: date) -> datetime:
    """S as an instant: midnight UTC at the start of the snapshot date."""
    return datetime.combine(snapshot, time.min, tzinfo=UTC)


def _frame(cur: psycopg.Cursor) -> pd.DataFrame:
    columns = [d.name for d in cur.description or ()]
    return pd.DataFrame(cur.fetchall(), columns=columns)


def _tidy(frame: pd.DataFrame, snapshot: date) -> pd.DataFrame:
    frame = frame.set_index("customer_key").sort_index()
    frame[list(FEATURE_COLUMNS)] = frame[list(FEATURE_COLUMNS)].astype("float64")
    frame.insert(0, "snapshot_date", snapshot)
    return frame


def build_features(conn: psycopg.Connection, snapshot: date) -> pd.DataFrame:
    """Features of every customer with a known purchase before ``snapshot``; index ``customer_key``."""
    params = {"snapshot": snapshot_start(snapshot), "cancelled": CANCELLED_STATUS}
    with conn.cursor() as cur:
        cur.execute(_FEATURES_SQL + _FEATURE_SELECT, params)
        frame = _tidy(_frame(cur), snapshot)
    log.info("churn features at %s: %d customers", snapshot, len(frame))
    return frame


def build_training_set(conn: psycopg.Connection, snapshot: date, horizon_days: int) -> pd.DataFrame:
    """Features at ``snapshot`` plus ``churned`` (1 = no purchase in ``[S, S + horizon)``)."""
    start = snapshot_start(snapshot)
    params = {
        "snapshot": start,
        "window_end": start + timedelta(days=horizon_days),
        "cancelled": CANCELLED_STATUS,
    }
    query = (
        _FEATURES_SQL
        + "select f.*, (future.customer_key is null)::int as churned from ("
        + _FEATURE_SELECT
        + ") f"
        + _LABEL_JOIN
    )
    with conn.cursor() as cur:
        cur.execute(query, params)
        frame = _tidy(_frame(cur), snapshot)
    log.info(
        "churn training set at %s (horizon %d d): %d customers, churn rate %.3f",
        snapshot,
        horizon_days,
        len(frame),
        frame["churned"].mean() if len(frame) else float("nan"),
    )
    return frame


def data_span(conn: psycopg.Connection) -> DataSpan:
    """The purchase dates ``dwd.order_item`` covers, to check history before building snapshots."""
    row = conn.execute(
        "select (min(purchased_at) at time zone 'UTC')::date, (max(purchased_at) at time zone 'UTC')::date "
        "from dwd.order_item"
    ).fetchone()
    return DataSpan(*(row or (None, None)))


def require_history(span: DataSpan, as_of: date, need_days: int, purpose: str) -> int:
    """Days of history through ``as_of``; raises the clear error when fewer than ``need_days``."""
    have = 0 if span.first is None or span.first > as_of else (as_of - span.first).days + 1
    if have < need_days:
        since = f"purchases from {span.first}" if span.first else "no purchases"
        raise InsufficientHistoryError(
            f"not enough history for {purpose}: need {need_days} days, have {have} "
            f"({SOURCE_TABLE} has {since} through as_of {as_of})"
        )
    return have


def latest_trainable_snapshot(settings: Settings, as_of: date, min_feature_days: int = 30) -> date:
    """The latest S whose label window ``[S, S + horizon)`` is fully observed by the end of ``as_of``.

    Needs ``min_feature_days`` of purchases before S so features mean something, so at least
    ``min_feature_days + horizon`` days through ``as_of`` in total.
    """
    horizon = settings.churn_horizon_days
    with connect(settings) as conn:
        span = data_span(conn)
    require_history(span, as_of, min_feature_days + horizon, "a labelled churn snapshot")
    return as_of + timedelta(days=1 - horizon)
