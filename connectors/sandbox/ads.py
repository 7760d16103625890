"""Hourly ad campaign metrics (TikTok Smart+ style) with runaway-budget episodes as recorded truth.

A campaign has a daily budget, a cost per click, a click-through and a conversion rate and an order value,
all fixed by the seed. An hour's spend follows the budget, a diurnal curve and the calendar's demand. A
runaway episode (a bid or targeting change gone wrong) multiplies spend and CPC while conversion collapses,
so spend velocity rises and ROAS falls for its duration. Episodes are drawn once per campaign over the whole
calendar (cheap), so any day's hours are generated alone.

Each campaign advertises one product (a Sponsored Products / product campaign with one advertised ASIN):
within a marketplace, distinct ASINs listed before the calendar starts, drawn by popularity (sellers
advertise what sells) from their own stream, so adding them changed no other generated value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np

from connectors.sandbox import calendar
from connectors.sandbox.products import products
from connectors.sandbox.profiles import get_profile
from connectors.sandbox.shop_health import shops_of

STREAM_CAMPAIGNS = 41
STREAM_EPISODES = 42
STREAM_HOURS = 43
STREAM_ADVERTISED_ASINS = 44

MIN_CAMPAIGNS_PER_MARKETPLACE = 10
MEAN_DAYS_BETWEEN_EPISODES = 75.0
EPISODE_HOURS = (6, 48)
# Share of a day's spend in each UTC hour (US/UK evenings peak); sums to 1.
_DIURNAL = 1.0 + 0.6 * np.sin((np.arange(24) - 8) / 24 * 2 * np.pi)
DIURNAL = _DIURNAL / _DIURNAL.sum()


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    campaign_name: str
    advertiser_id: str  # the shop running it
    marketplace_id: str
    currency: str
    daily_budget: float
    cpc: float
    ctr: float
    cvr: float
    order_value: float
    asin: str  # the advertised product, listed in ``marketplace_id`` for the whole calendar


@dataclass(frozen=True)
class RunawayEpisode:
    """A runaway-budget episode: [start_at, end_at) in epoch seconds, hour-aligned (truth)."""

    campaign_id: str
    start_at: int
    end_at: int
    spend_multiplier: float
    cpc_multiplier: float
    cvr_multiplier: float

    def covers(self, hour_start: int) -> bool:
        return self.start_at <= hour_start < self.end_at


def _advertised_asins(
    seed: int, profile_name: str, n_marketplaces: int, per_mp: int
) -> list[tuple[str, ...]]:
    """Per marketplace, ``per_mp`` distinct ASINs by popularity among those launched before the calendar.

    A stream of its own: drawing ASINs must not shift the campaign parameters' stream.
    """
    p = products(seed, profile_name)
    eligible = np.flatnonzero(p.launch_ord <= calendar.CALENDAR_START.toordinal())
    weight = np.exp(p.log_pop[eligible])
    weight /= weight.sum()
    rng = np.random.default_rng([seed, 0, STREAM_ADVERTISED_ASINS])
    return [
        tuple(p.asin[i] for i in rng.choice(eligible, size=per_mp, replace=False, p=weight))
        for _ in range(n_marketplaces)
    ]


@lru_cache(maxsize=8)
def campaigns(seed: int, profile_name: str = "small") -> tuple[Campaign, ...]:
    """Every ad campaign of every marketplace, fixed by the seed."""
    profile = get_profile(profile_name)
    rng = np.random.default_rng([seed, 0, STREAM_CAMPAIGNS])
    per_mp = max(MIN_CAMPAIGNS_PER_MARKETPLACE, profile.n_asins // 200)
    asins = _advertised_asins(seed, profile_name, len(profile.marketplaces), per_mp)
    out = []
    for mp, mp_asins in zip(profile.marketplaces, asins, strict=True):
        shop_list = shops_of(seed, mp.marketplace_id, profile_name)
        for k in range(per_mp):
            out.append(
                Campaign(
                    campaign_id=f"{1_800_000_000_000 + seed % 1000 * 10_000 + len(out)}",
                    campaign_name=f"{mp.country} Smart+ {k + 1:03d}",
                    advertiser_id=shop_list[k % len(shop_list)].shop_id,
                    marketplace_id=mp.marketplace_id,
                    currency=mp.currency,
                    daily_budget=round(float(np.exp(rng.normal(np.log(150.0), 0.6))) * mp.price_factor, 2),
                    cpc=float(np.exp(rng.normal(np.log(0.6), 0.3))),
                    ctr=float(rng.beta(3, 250)),
                    cvr=float(rng.beta(8, 92)),
                    order_value=float(np.exp(rng.normal(np.log(30.0), 0.3))) * mp.price_factor,
                    asin=mp_asins[k],
                )
            )
    return tuple(out)


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


@lru_cache(maxsize=8)
def runaway_episodes(seed: int, profile_name: str = "small") -> tuple[RunawayEpisode, ...]:
    """All runaway episodes over the calendar, sorted by start; at least 8 days of calm between two."""
    start, end = _epoch(calendar.CALENDAR_START), _epoch(calendar.CALENDAR_END + timedelta(days=1))
    out = []
    for index, camp in enumerate(campaigns(seed, profile_name)):
        rng = np.random.default_rng([seed, index + 1, STREAM_EPISODES])
        t = start + int(rng.uniform(8, MEAN_DAYS_BETWEEN_EPISODES)) * 86_400
        while True:
            t += int(rng.integers(0, 24)) * 3_600
            hours = int(rng.integers(*EPISODE_HOURS))
            if t + hours * 3_600 > end:
                break
            out.append(
                RunawayEpisode(
                    campaign_id=camp.campaign_id,
                    start_at=t,
                    end_at=t + hours * 3_600,
                    spend_multiplier=float(rng.uniform(2.5, 5.0)),
                    cpc_multiplier=float(rng.uniform(1.5, 2.5)),
                    cvr_multiplier=float(rng.uniform(0.25, 0.5)),
                )
            )
            gap_days = 8 + rng.exponential(MEAN_DAYS_BETWEEN_EPISODES - 8)
            t = (t + hours * 3_600) // 86_400 * 86_400 + int(gap_days) * 86_400
    return tuple(sorted(out, key=lambda e: (e.start_at, e.campaign_id)))


@lru_cache(maxsize=32)
def _episodes_by_campaign(seed: int, profile_name: str) -> dict[str, tuple[RunawayEpisode, ...]]:
    grouped: dict[str, list[RunawayEpisode]] = {}
    for episode in runaway_episodes(seed, profile_name):
        grouped.setdefault(episode.campaign_id, []).append(episode)
    return {k: tuple(v) for k, v in grouped.items()}


@lru_cache(maxsize=32)
def campaign_hours(seed: int, day: date, profile_name: str = "small") -> tuple[dict, ...]:
    """Every campaign's 24 hourly rows for ``day``, ordered by (campaign, hour); no other day is read."""
    camps = campaigns(seed, profile_name)
    episodes = _episodes_by_campaign(seed, profile_name)
    rng = np.random.default_rng([seed, day.toordinal(), STREAM_HOURS])
    u = rng.random((len(camps), 24, 4))
    day_start = _epoch(day)
    hour_starts = day_start + 3_600 * np.arange(24)
    multipliers = np.ones((len(camps), 24, 3))  # spend, cpc, cvr
    for c_idx, camp in enumerate(camps):
        for episode in episodes.get(camp.campaign_id, ()):
            covered = (hour_starts >= episode.start_at) & (hour_starts < episode.end_at)
            multipliers[c_idx, covered] = (
                episode.spend_multiplier,
                episode.cpc_multiplier,
                episode.cvr_multiplier,
            )
    budget = np.array([c.daily_budget for c in camps])[:, None]
    base_cpc = np.array([c.cpc for c in camps])[:, None]
    ctr = np.array([c.ctr for c in camps])[:, None]
    cvr = np.array([c.cvr for c in camps])[:, None]
    order_value = np.array([c.order_value for c in camps])[:, None]
    target = (
        budget
        * DIURNAL[None, :]
        * calendar.demand_factor(day)
        * multipliers[..., 0]
        * (0.85 + 0.3 * u[..., 0])
    )
    cpc = base_cpc * multipliers[..., 1] * (0.9 + 0.2 * u[..., 1])
    clicks = np.floor(target / cpc).astype(np.int64)
    impressions = np.floor(clicks / ctr * (0.9 + 0.2 * u[..., 2])).astype(np.int64)
    conversions = rng.binomial(clicks, cvr * multipliers[..., 2])
    spend = np.round(clicks * cpc, 2)
    gmv = np.round(conversions * order_value * (0.8 + 0.4 * u[..., 3]), 2)
    rows = []
    for c_idx, camp in enumerate(camps):
        for hour in range(24):
            rows.append(
                {
                    "campaign_id": camp.campaign_id,
                    "campaign_name": camp.campaign_name,
                    "advertiser_id": camp.advertiser_id,
                    "marketplace_id": camp.marketplace_id,
                    "asin": camp.asin,
                    "currency": camp.currency,
                    "stat_time_hour": f"{day.isoformat()}T{hour:02d}:00:00Z",
                    "spend": float(spend[c_idx, hour]),
                    "impressions": int(impressions[c_idx, hour]),
                    "clicks": int(clicks[c_idx, hour]),
                    "conversions": int(conversions[c_idx, hour]),
                    "gmv": float(gmv[c_idx, hour]),
                    "daily_budget": camp.daily_budget,
                }
            )
    return tuple(rows)
