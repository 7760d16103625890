"""Ground truth behind the synthetic customers, for evaluation code only (never connectors or features)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from connectors.sandbox.orders import season_factor
from connectors.sandbox.population import customers
from connectors.sandbox.profiles import get_profile


def customer_truth(seed: int, profile_name: str = "small") -> pd.DataFrame:
    """One row per customer: BuyerId, marketplace, latent relative purchase rate, acquisition, drop-out day.

    A customer buys only on days in [acquired_on, drops_out_on); on such a day the expected number of orders
    is ``purchase_rate * daily_rate_scale(seed, day)``.
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
        }
    )


def daily_rate_scale(seed: int, day: date, profile_name: str = "small") -> float:
    """Orders per unit of purchase_rate on ``day``: demand (with the Q4 peak) spread over active customers."""
    profile = get_profile(profile_name)
    people = customers(seed, profile_name)
    total = float((people.purchase_rate * people.active_mask(day)).sum())
    return profile.orders_per_day * season_factor(day) / total if total > 0 else 0.0
