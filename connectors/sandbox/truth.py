"""Ground truth behind the synthetic world (customers, ASIN momentum, review and refund causes).

For evaluation only.

Connectors and feature code must never import this module; the HTTP twins live under ``/_truth/``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from connectors.sandbox.formats import money, season_factor
from connectors.sandbox.population import CHURN_CAUSES, customers
from connectors.sandbox.products import (
    TAXONOMY,
    TOP_CATEGORIES,
    breakout_grade,
    future_gain,
    momentum,
    products,
)
from connectors.sandbox.profiles import get_profile
from connectors.sandbox.refunds import refunds_between
from connectors.sandbox.reviews import reviews_between


def customer_truth(seed: int, profile_name: str = "small") -> pd.DataFrame:
    """One row per customer: BuyerId, marketplace, latent relative purchase rate, acquisition, drop-out day
    and what caused the drop-out (``natural``, ``late_delivery``, ``quality``).

    A customer buys only on days in [acquired_on, drops_out_on); on such a day the expected number of orders
    is ``purchase_rate * daily_rate_scale(seed, day)``. A ``late_delivery`` / ``quality`` drop-out follows a
    late parcel / a returned defective item on the orders placed 17-24 days before ``drops_out_on``.
    """
    profile = get_profile(profile_name)
    people = customers(seed, profile_name)
    ids = np.array([mp.marketplace_id for mp in profile.marketplaces])
    return pd.DataFrame(
        {
            "buyer_id": people.buyer_id,
            "marketplace_id": ids[people.marketplace_idx],
            "purchase_rate": people.purchase_rate,
            "acquired_on": [date.fromordinal(int(o)) for o in people.acquired_ord],
            "drops_out_on": [date.fromordinal(int(o)) for o in people.drops_out_ord],
            "churn_cause": np.array(CHURN_CAUSES)[people.churn_cause],
        }
    )


def daily_rate_scale(seed: int, day: date, profile_name: str = "small") -> float:
    """Orders per unit of purchase_rate on ``day``: demand (with the Q4 peak) spread over active customers."""
    profile = get_profile(profile_name)
    people = customers(seed, profile_name)
    total = float((people.purchase_rate * people.active_mask(day)).sum())
    return profile.orders_per_day * season_factor(day) / total if total > 0 else 0.0


def asin_latent_truth(seed: int, profile_name: str = "small") -> pd.DataFrame:
    """One row per ASIN: latent quality, defect flag and its breakout (day, strength), if any."""
    p = products(seed, profile_name)
    return pd.DataFrame(
        {
            "asin": p.asin,
            "category": [TAXONOMY[i][1] for i in p.leaf],
            "launched_on": [date.fromordinal(int(o)) for o in p.launch_ord],
            "quality": p.quality,
            "is_defective": p.defective,
            "has_breakout": p.breakout,
            "breakout_on": [
                date.fromordinal(int(o)) if b else None
                for o, b in zip(p.breakout_ord, p.breakout, strict=True)
            ],
            "breakout_strength": p.strength,
            "has_pre_breakout_price_cut": p.price_cut,
        }
    )


def asin_momentum_truth(seed: int, profile_name: str, day: date) -> pd.DataFrame:
    """Per launched (marketplace, asin) on ``day``: latent momentum, the gain over the next
    ``HORIZON_DAYS`` days and its graded breakout label (0-3), the oracle for the breakout ranker."""
    profile = get_profile(profile_name)
    p = products(seed, profile_name)
    ordinal = day.toordinal()
    idx = np.flatnonzero(p.launched(ordinal))
    gain = future_gain(p, ordinal)[idx]
    frame = pd.DataFrame(
        {
            "asin": np.array(p.asin)[idx],
            "category": [TAXONOMY[i][1] for i in p.leaf[idx]],
            "bsr_category": [TOP_CATEGORIES[i] for i in p.top[idx]],
            "momentum": momentum(p, ordinal)[idx],
            "future_gain": gain,
            "breakout_grade": breakout_grade(gain),
        }
    )
    frames = [frame.assign(marketplace_id=mp.marketplace_id) for mp in profile.marketplaces]
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "date", day)
    return out[["date", "marketplace_id", *frame.columns]]


def review_cause_truth(seed: int, profile_name: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Per review posted in [start, end): rating, language and the true complaint cause (None: 3-5 stars)."""
    reviews = reviews_between(seed, start, end, profile_name)
    return pd.DataFrame(
        {
            "review_id": [r.review_id for r in reviews],
            "asin": [r.asin for r in reviews],
            "marketplace_id": [r.marketplace_id for r in reviews],
            "rating": [r.rating for r in reviews],
            "language": [r.language for r in reviews],
            "cause": [r.cause for r in reviews],
            "is_defective_asin": [r.defective_asin for r in reviews],
        },
        columns=["review_id", "asin", "marketplace_id", "rating", "language", "cause", "is_defective_asin"],
    )


REFUND_TRUTH_COLUMNS = [
    "amazon_order_id", "order_item_id", "asin", "marketplace_id", "buyer_id", "posted_at", "quantity",
    "amount", "currency", "cause", "is_defective_asin",
]  # fmt: skip


def refund_truth(seed: int, profile_name: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Per refunded order line posted in [start, end): the amount and the true cause of the return
    (``quality``, ``logistics`` or ``other``) and whether the ASIN is defective."""
    p = products(seed, profile_name)
    defective = dict(zip(p.asin, p.defective, strict=True))
    rows = [
        (r.order, r.posted_at, line, r.order.marketplace)
        for r in refunds_between(seed, start, end, profile_name)
        for line in r.lines
    ]
    rows = [
        (o.order_id, line.order_item_id, line.asin, mp.marketplace_id, o.buyer[0],
         datetime.fromtimestamp(at, UTC), line.quantity, money(line.amount_cents), mp.currency, line.cause,
         bool(defective[line.asin]))
        for o, at, line, mp in rows
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=REFUND_TRUTH_COLUMNS)
