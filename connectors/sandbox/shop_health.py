"""Daily shop health (TikTok Shop SPS style) that reacts to the calendar's logistics episodes.

Each shop has a fixed exposure to the episodes: ``sf_sensitivity`` (how much its fulfilment depends on
Chinese warehouse staff and first-mile carriers) and ``usw_share`` (the share of its parcels on the
congested lane). Metrics are trailing-window rates driven by those exposures, so a shop crosses the
3.5 red line because of an episode it is exposed to, never at random: outside the episodes every shop
stays well above it. Logistics uses the same shop parameters, so shipments and health agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from connectors.sandbox import calendar
from connectors.sandbox.profiles import get_profile

STREAM_SHOPS = 31
STREAM_SHOP_DAY = 32

SHOPS_PER_MARKETPLACE = 4
SPS_RED_LINE = 3.5
ORDERS_PER_SHOP_WEEK = 2_000  # sample size behind each trailing rate (its binomial noise)

# SPS = 5 - weights · rates: with baseline rates every shop scores about 4.1-4.5.
W_LATE_DISPATCH = 10.0
W_CANCELLATION = 12.0
W_NEGATIVE_REVIEW = 10.0
SF_LATE_DISPATCH = 0.12  # extra late-dispatch rate per unit of sensitivity x festival intensity
SF_CANCELLATION = 0.03
CONGESTION_NEGATIVE_REVIEW = 0.15  # extra negative-review rate per unit of lane share x congestion
Q4_LATE_DISPATCH = 0.01
REVIEW_LAG_DAYS = (3, 10)  # negative reviews follow late deliveries by 3-10 days


@dataclass(frozen=True)
class Shop:
    """A seller shop on one marketplace; exposures and baseline rates are evaluation truth."""

    shop_id: str
    shop_name: str
    marketplace_id: str
    country: str
    sf_sensitivity: float
    usw_share: float  # share of parcels on the congested lane (0 outside the US)
    base_late_dispatch: float
    base_cancellation: float
    base_negative_review: float


def _stratified(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    """One draw per stratum of [lo, hi] in random order, so every world has low and high exposures."""
    return lo + (hi - lo) * (rng.permutation(n) + rng.random(n)) / n


@lru_cache(maxsize=8)
def shops(seed: int, profile_name: str = "small") -> tuple[Shop, ...]:
    """The shops of every marketplace, fixed by the seed."""
    profile = get_profile(profile_name)
    rng = np.random.default_rng([seed, 0, STREAM_SHOPS])
    out = []
    for mp in profile.marketplaces:
        n = SHOPS_PER_MARKETPLACE
        sens = _stratified(rng, n, 0.2, 1.4)
        usw = _stratified(rng, n, 0.15, 0.95) if mp.country == "US" else np.zeros(n)
        late = rng.uniform(0.01, 0.035, n)
        cancel = rng.uniform(0.005, 0.018, n)
        neg = rng.uniform(0.01, 0.03, n)
        for k in range(n):
            out.append(
                Shop(
                    shop_id=f"SHOP-{mp.country}-{k + 1:02d}",
                    shop_name=f"Mercator {mp.country} Store {k + 1}",
                    marketplace_id=mp.marketplace_id,
                    country=mp.country,
                    sf_sensitivity=float(sens[k]),
                    usw_share=float(usw[k]),
                    base_late_dispatch=float(late[k]),
                    base_cancellation=float(cancel[k]),
                    base_negative_review=float(neg[k]),
                )
            )
    return tuple(out)


@lru_cache(maxsize=16)
def shops_of(seed: int, marketplace_id: str, profile_name: str = "small") -> tuple[Shop, ...]:
    """The shops of one marketplace (cached: logistics asks once per parcel)."""
    return tuple(s for s in shops(seed, profile_name) if s.marketplace_id == marketplace_id)


def _mean(fn, day: date, lags: range) -> float:
    return float(np.mean([fn(day - timedelta(days=k)) for k in lags]))


@dataclass(frozen=True)
class ShopDay:
    """One shop-day: the served metrics and the expected drivers behind them (truth)."""

    shop: Shop
    day: date
    sps_score: float
    late_dispatch_rate: float
    cancellation_rate: float
    negative_review_rate: float
    sf_exposure: float  # sensitivity x trailing festival intensity
    congestion_exposure: float  # lane share x lagged congestion intensity

    def record(self) -> dict:
        return {
            "shop_id": self.shop.shop_id,
            "shop_name": self.shop.shop_name,
            "marketplace_id": self.shop.marketplace_id,
            "date": self.day.isoformat(),
            "sps_score": self.sps_score,
            "late_dispatch_rate": self.late_dispatch_rate,
            "cancellation_rate": self.cancellation_rate,
            "negative_review_rate": self.negative_review_rate,
            "orders_7d": ORDERS_PER_SHOP_WEEK,
        }

    @property
    def below_red_line(self) -> bool:
        return self.sps_score < SPS_RED_LINE

    @property
    def cause(self) -> str:
        """Why the shop is below the red line: the episode costing it the most SPS points."""
        if not self.below_red_line:
            return "none"
        sf_cost = self.sf_exposure * (W_LATE_DISPATCH * SF_LATE_DISPATCH + W_CANCELLATION * SF_CANCELLATION)
        congestion_cost = self.congestion_exposure * W_NEGATIVE_REVIEW * CONGESTION_NEGATIVE_REVIEW
        if max(sf_cost, congestion_cost) <= 0:
            return "baseline"
        return (
            calendar.EPISODE_SPRING_FESTIVAL
            if sf_cost >= congestion_cost
            else calendar.EPISODE_PORT_CONGESTION
        )


@lru_cache(maxsize=64)
def shop_days(seed: int, day: date, profile_name: str = "small") -> tuple[ShopDay, ...]:
    """Every shop's health on ``day`` (trailing 7-day rates); depends on no other generated day."""
    rng = np.random.default_rng([seed, day.toordinal(), STREAM_SHOP_DAY])
    festival = _mean(calendar.spring_festival_intensity, day, range(7))
    congestion = _mean(calendar.port_congestion_intensity, day, range(*REVIEW_LAG_DAYS))
    q4 = Q4_LATE_DISPATCH if calendar.is_q4_peak(day) else 0.0
    out = []
    for shop in shops(seed, profile_name):
        sf_exposure = shop.sf_sensitivity * festival
        congestion_exposure = shop.usw_share * congestion
        expected = (
            shop.base_late_dispatch + q4 + SF_LATE_DISPATCH * sf_exposure,
            shop.base_cancellation + SF_CANCELLATION * sf_exposure,
            shop.base_negative_review + CONGESTION_NEGATIVE_REVIEW * congestion_exposure,
        )
        late, cancel, neg = (
            rng.binomial(ORDERS_PER_SHOP_WEEK, min(p, 1.0)) / ORDERS_PER_SHOP_WEEK for p in expected
        )
        sps = 5.0 - W_LATE_DISPATCH * late - W_CANCELLATION * cancel - W_NEGATIVE_REVIEW * neg
        out.append(
            ShopDay(
                shop=shop,
                day=day,
                sps_score=round(float(np.clip(sps, 1.0, 5.0)), 2),
                late_dispatch_rate=round(float(late), 4),
                cancellation_rate=round(float(cancel), 4),
                negative_review_rate=round(float(neg), 4),
                sf_exposure=sf_exposure,
                congestion_exposure=congestion_exposure,
            )
        )
    return tuple(out)


def shop_health_records(seed: int, day: date, profile_name: str = "small") -> list[dict]:
    """What the shop-health API serves for ``day``, ordered by shop id."""
    return [d.record() for d in sorted(shop_days(seed, day, profile_name), key=lambda d: d.shop.shop_id)]
