"""Daily ASIN metrics (business report + sales rank), any day computed alone from closed forms + day streams.

Expected units of ASIN i in marketplace m on day t::

    log u = log(orders/day * 1.6) + log popularity_i + log share_m + M_i(t) + drift_i(t)
            + 2 * (1 - price_ratio_i(t)) + newness_i(t) + log season(t)

where ``price_ratio`` is the day's selling price over the launch list price (catalog price edits times
coupon and pre-breakout discounts), so a price cut raises demand; out-of-stock ASINs lose 1.5 in log-demand.
Orders draw their ASINs from exactly these expected units (``order_asin_weights``), at the day's price.

The observed day adds lognormal noise (sd ``DEMAND_NOISE``); BSR and category rank are ranks of that within
(marketplace, top category / leaf). Reviews per (asin, marketplace, day) are Poisson with rate
``REVIEW_RATE * u * exp(0.9 * buzz) + 0.4 * buzz`` (day stream); the snapshot's review count is the
pre-history count plus their running sum (a cached panel of counts, cheap and identical to what the
reviews endpoint serves).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import numpy as np

from connectors.sandbox.formats import money, season_factor
from connectors.sandbox.population import catalog
from connectors.sandbox.products import (
    BSR_DEPTH,
    CALENDAR_END,
    HISTORY_START,
    TAXONOMY,
    TOP_CATEGORIES,
    Products,
    buzz,
    drift,
    momentum,
    price_factors,
    products,
    star_probabilities,
)
from connectors.sandbox.profiles import get_profile

STREAM_SNAPSHOT = 31
STREAM_REVIEW_COUNTS = 32
STREAM_COUPONS = 34
STREAM_STOCK = 35
STREAM_PRIOR_REVIEWS = 26

UNITS_PER_ORDER = 1.6
DEMAND_NOISE = 0.25
REVIEW_RATE = 0.04  # reviews per unit sold (before buzz)
BUZZ_REVIEW_LIFT = 0.9
EARLY_REVIEWS_PER_DAY = 0.4  # per unit of buzz: early-reviewer programmes and off-Amazon traffic
PRICE_ELASTICITY = 2.0  # log-demand gained per unit of fractional price cut (vs the launch list price)
STOCKOUT_PENALTY = 1.5  # log-demand lost while out of stock
COUPON_RATE, COUPON_BLOCK_DAYS = 0.12, 14
STOCKOUT_RATE, STOCK_BLOCK_DAYS = 0.03, 7
SESSIONS_PER_UNIT = 12.0


def check_day(day: date) -> None:
    if not HISTORY_START <= day <= CALENDAR_END:
        raise ValueError(
            f"the sandbox serves product metrics from {HISTORY_START} to {CALENDAR_END}, not {day}"
        )


def discounts(seed: int, p: Products, ordinal: int) -> np.ndarray:
    """Fractional discount off list price: two-week coupons at random, and pre-breakout price cuts."""
    block = (ordinal - HISTORY_START.toordinal()) // COUPON_BLOCK_DAYS
    u = np.random.default_rng([seed, block, STREAM_COUPONS]).random((len(p.asin), 2))
    coupon = np.where(u[:, 0] < COUPON_RATE, 0.05 + 0.15 * u[:, 1], 0.0)
    cutting = p.price_cut & (ordinal >= p.breakout_ord - p.price_cut_lead) & (ordinal <= p.breakout_ord + 40)
    return np.where(cutting, np.maximum(coupon, p.price_cut_depth), coupon)


def in_stock(seed: int, p: Products, ordinal: int) -> np.ndarray:
    block = (ordinal - HISTORY_START.toordinal()) // STOCK_BLOCK_DAYS
    return np.random.default_rng([seed, block, STREAM_STOCK]).random(len(p.asin)) >= STOCKOUT_RATE


@lru_cache(maxsize=64)
def price_ratio(seed: int, profile_name: str, ordinal: int) -> np.ndarray:
    """Selling price over launch list price per ASIN on a day: catalog edits times discounts."""
    p = products(seed, profile_name)
    return price_factors(p, ordinal) * (1 - discounts(seed, p, ordinal))


def unit_price_cents(seed: int, profile_name: str, ordinal: int) -> np.ndarray:
    """What one unit sells for on a day (n_marketplaces, n_asins): the snapshot price and the order price."""
    cat = catalog(seed, profile_name)
    return np.floor(cat.price_cents * price_ratio(seed, profile_name, ordinal)[None, :]).astype(np.int64)


def expected_log_units(seed: int, profile_name: str, ordinal: int) -> np.ndarray:
    """log expected units (n_asins, n_marketplaces); -inf before launch."""
    profile = get_profile(profile_name)
    p = products(seed, profile_name)
    share = np.log([mp.customer_share for mp in profile.marketplaces])
    age = ordinal - p.launch_ord
    per_asin = (
        np.log(profile.orders_per_day * UNITS_PER_ORDER)
        + p.log_pop
        + momentum(p, ordinal)
        + drift(p, ordinal)
        + PRICE_ELASTICITY * (1 - price_ratio(seed, profile_name, ordinal))
        - 1.0 * np.exp(-np.maximum(age, 0) / 40.0)
        + np.log(season_factor(date.fromordinal(ordinal)))
    )
    out = per_asin[:, None] + share[None, :]
    return np.where((age >= 0)[:, None], out, -np.inf)


def order_asin_weights(seed: int, profile_name: str, ordinal: int) -> np.ndarray:
    """P(an order line is ASIN i) per marketplace (n_marketplaces, n_asins): expected units, stock-outs
    included, so orders follow momentum, drift, launches and the day's price exactly as the ranks do."""
    p = products(seed, profile_name)
    log_u = expected_log_units(seed, profile_name, ordinal)
    log_u = log_u - STOCKOUT_PENALTY * ~in_stock(seed, p, ordinal)[:, None]
    units = np.exp(log_u - log_u.max(axis=0, keepdims=True)).T
    return units / units.sum(axis=1, keepdims=True)


def review_rates(seed: int, profile_name: str, ordinal: int) -> np.ndarray:
    p = products(seed, profile_name)
    log_u = expected_log_units(seed, profile_name, ordinal)
    early = buzz(p, ordinal)[:, None]
    organic = REVIEW_RATE * np.exp(log_u + BUZZ_REVIEW_LIFT * early)
    return organic + EARLY_REVIEWS_PER_DAY * early * np.isfinite(log_u)


def review_counts_for_day(seed: int, profile_name: str, ordinal: int) -> np.ndarray:
    """Reviews each (asin, marketplace) gets on a day: exactly what the reviews endpoint serves."""
    rng = np.random.default_rng([seed, ordinal, STREAM_REVIEW_COUNTS])
    return rng.poisson(review_rates(seed, profile_name, ordinal))


@lru_cache(maxsize=2)
def _review_count_panel(seed: int, profile_name: str) -> np.ndarray:
    """Cumulative review counts (day since HISTORY_START, asin, marketplace), prior reviews included."""
    p = products(seed, profile_name)
    first = HISTORY_START.toordinal()
    days = CALENDAR_END.toordinal() - first + 1
    base = np.exp(expected_log_units(seed, profile_name, first))
    age = np.maximum(first - p.launch_ord, 0)[:, None]
    noise = np.random.default_rng([seed, 0, STREAM_PRIOR_REVIEWS]).uniform(0.4, 1.0, size=base.shape)
    prior = np.floor(REVIEW_RATE * base * age * noise).astype(np.int64)
    panel = np.empty((days, *prior.shape), dtype=np.int32)  # int32: the medium profile's panel is ~100 MB
    running = prior.astype(np.int32)
    for k in range(days):
        running = running + review_counts_for_day(seed, profile_name, first + k).astype(np.int32)
        panel[k] = running
    return panel


def review_count(seed: int, profile_name: str, ordinal: int) -> np.ndarray:
    return _review_count_panel(seed, profile_name)[ordinal - HISTORY_START.toordinal()]


def _group_rank(values: np.ndarray, groups: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """1 = highest value within its group, among valid entries; 0 for invalid ones."""
    idx = np.flatnonzero(valid)
    order = idx[np.lexsort((-values[idx], groups[idx]))]
    g = groups[order]
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1] if len(g) else np.array([], dtype=int)
    lengths = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, lengths) + 1
    out = np.zeros(len(values), dtype=np.int64)
    out[order] = rank
    return out


@lru_cache(maxsize=64)
def snapshots_for_day(seed: int, day: date, profile_name: str = "small") -> tuple[dict, ...]:
    """Every launched (asin, marketplace)'s metrics for ``day``, ordered by marketplace then ASIN index."""
    check_day(day)
    profile = get_profile(profile_name)
    p = products(seed, profile_name)
    ordinal = day.toordinal()
    n, m = len(p.asin), len(profile.marketplaces)
    rng = np.random.default_rng([seed, ordinal, STREAM_SNAPSHOT])
    eps = rng.normal(0.0, DEMAND_NOISE, size=(n, m))
    jitter = rng.random((n, m))
    buy_box = rng.beta(20.0, 1.5, size=(n, m))
    stock = in_stock(seed, p, ordinal)
    log_u = expected_log_units(seed, profile_name, ordinal)
    launched = p.launch_ord <= ordinal
    observed = np.where(launched[:, None], log_u + eps, -np.inf)
    observed = np.where(stock[:, None], observed, observed - STOCKOUT_PENALTY)
    sessions = rng.poisson(SESSIONS_PER_UNIT * np.exp(np.where(launched[:, None], observed, -50.0)))
    page_views = sessions + rng.poisson(0.35 * sessions)
    price_cents = unit_price_cents(seed, profile_name, ordinal)
    rating = np.round(star_probabilities(p) @ np.arange(1, 6), 1)
    reviews = review_count(seed, profile_name, ordinal)
    depth = np.array(BSR_DEPTH)[p.top]

    out: list[dict] = []
    iso = day.isoformat()
    for j, mp in enumerate(profile.marketplaces):
        bsr_rank = _group_rank(observed[:, j], p.top, launched)
        leaf_rank = _group_rank(observed[:, j], p.leaf, launched)
        for i in np.flatnonzero(launched):
            out.append(
                {
                    "asin": p.asin[i],
                    "marketplaceId": mp.marketplace_id,
                    "date": iso,
                    "bsr": int(bsr_rank[i] * depth[i] + int(jitter[i, j] * depth[i])),
                    "bsrCategory": TOP_CATEGORIES[p.top[i]],
                    "categoryRank": int(leaf_rank[i]),
                    "category": TAXONOMY[p.leaf[i]][1],
                    "price": {"amount": money(int(price_cents[j, i])), "currencyCode": mp.currency},
                    "rating": float(rating[i]),
                    "reviewCount": int(reviews[i, j]),
                    "inStock": bool(stock[i]),
                    "buyBoxShare": round(float(buy_box[i, j]), 3) if stock[i] else 0.0,
                    "sessions": int(sessions[i, j]),
                    "pageViews": int(page_views[i, j]),
                }
            )
    return tuple(out)
