"""Product reviews: any day's reviews from (seed, day) alone, each negative one with a true complaint cause.

Counts per (asin, marketplace, day) come from ``asin_metrics.review_counts_for_day`` (so snapshots' review
counts add up); stars follow ``products.star_probabilities``. A negative review (1-2 stars) has a cause:
defective ASINs complain mostly about quality, others split between logistics, quality and other, with
logistics more likely in the Q4 peak and around the 2026 Spring Festival. Verified reviews link to a real
order of that ASIN placed 5-25 days earlier in the same marketplace, when the order generator has one.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np

from connectors.sandbox.asin_metrics import check_day, review_counts_for_day
from connectors.sandbox.orders import iso_z, orders_for_day
from connectors.sandbox.products import TAXONOMY, products, star_probabilities
from connectors.sandbox.profiles import get_profile
from connectors.sandbox.review_text import CAUSES, review_text

STREAM_REVIEWS = 33
ZH_SHARE = {"US": 0.15, "UK": 0.10}
VERIFIED_SHARE = 0.85
ORDER_LAG_DAYS = (5, 25)
SPRING_FESTIVAL_2026 = (date(2026, 1, 25), date(2026, 3, 5))


@dataclass(frozen=True, slots=True)
class SandboxReview:
    """A review as served plus its truth (``cause`` is None for 3-5 stars)."""

    review_id: str
    asin: str
    marketplace_id: str
    rating: int
    title: str
    text: str
    language: str
    verified: bool
    order_id: str | None
    posted_at: int
    helpful_votes: int
    cause: str | None
    defective_asin: bool

    def record(self) -> dict:
        return {
            "reviewId": self.review_id,
            "asin": self.asin,
            "marketplaceId": self.marketplace_id,
            "rating": self.rating,
            "title": self.title,
            "text": self.text,
            "language": self.language,
            "verifiedPurchase": self.verified,
            "amazonOrderId": self.order_id,
            "postedAt": iso_z(self.posted_at),
            "helpfulVotes": self.helpful_votes,
        }


def logistics_pressure(day: date) -> float:
    """How much likelier a complaint is about delivery: the Q4 peak and the Spring Festival slowdown."""
    if SPRING_FESTIVAL_2026[0] <= day <= SPRING_FESTIVAL_2026[1]:
        return 2.5
    return 1.6 if day.month in (11, 12) else 1.0


def cause_probabilities(defective: bool, day: date) -> np.ndarray:
    weights = np.array([0.2, 0.65, 0.15]) if defective else np.array([0.42, 0.25, 0.33])
    weights[0] *= logistics_pressure(day)
    return weights / weights.sum()


@lru_cache(maxsize=64)
def _orders_by_asin(seed: int, day: date, profile_name: str) -> dict[tuple[str, str], list[str]]:
    index: dict[tuple[str, str], list[str]] = defaultdict(list)
    for order in orders_for_day(seed, day, profile_name):
        for item in order.items:
            index[(order.marketplace.marketplace_id, item.asin)].append(order.order_id)
    return index


def _review_id(seed: int, ordinal: int, seq: int) -> str:
    digest = hashlib.blake2b(f"{seed}:{ordinal}:{seq}".encode(), digest_size=7).hexdigest().upper()
    return "R" + digest[:13]


@lru_cache(maxsize=64)
def reviews_for_day(seed: int, day: date, profile_name: str = "small") -> tuple[SandboxReview, ...]:
    """Every review posted on ``day`` (UTC), in (posted time, id) order; depends on no other day's reviews."""
    check_day(day)
    profile = get_profile(profile_name)
    p = products(seed, profile_name)
    ordinal = day.toordinal()
    counts = review_counts_for_day(seed, profile_name, ordinal)
    asin_idx, mp_idx = np.nonzero(counts)
    reps = counts[asin_idx, mp_idx]
    asin_idx, mp_idx = np.repeat(asin_idx, reps), np.repeat(mp_idx, reps)
    n = len(asin_idx)
    rng = np.random.default_rng([seed, ordinal, STREAM_REVIEWS])
    seconds = rng.integers(0, 86_400, size=n)
    star_u, cause_u, lang_u, verified_u, lag_u, pick_u, votes_u = rng.random((7, n))
    text_u = rng.random((n, 4))
    cum_stars = np.cumsum(star_probabilities(p), axis=1)
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())

    out = []
    for k in range(n):
        i, j = int(asin_idx[k]), int(mp_idx[k])
        mp = profile.marketplaces[j]
        rating = int(np.searchsorted(cum_stars[i], star_u[k], side="right")) + 1
        rating = min(rating, 5)
        defective = bool(p.defective[i])
        cause = None
        if rating <= 2:
            cum = np.cumsum(cause_probabilities(defective, day))
            cause = CAUSES[min(int(np.searchsorted(cum, cause_u[k], side="right")), 2)]
        language = "zh" if lang_u[k] < ZH_SHARE.get(mp.country, 0.1) else "en"
        part = TAXONOMY[p.leaf[i]][3][int(text_u[k, 3] * 3)]
        title, text = review_text(language, rating, cause, part, text_u[k])
        verified = bool(verified_u[k] < VERIFIED_SHARE)
        order_id = None
        if verified:
            lag = ORDER_LAG_DAYS[0] + int(lag_u[k] * (ORDER_LAG_DAYS[1] - ORDER_LAG_DAYS[0] + 1))
            candidates = _orders_by_asin(seed, day - timedelta(days=lag), profile_name).get(
                (mp.marketplace_id, p.asin[i]), []
            )
            if candidates:
                order_id = candidates[int(pick_u[k] * len(candidates))]
        out.append(
            SandboxReview(
                review_id=_review_id(seed, ordinal, k),
                asin=p.asin[i],
                marketplace_id=mp.marketplace_id,
                rating=rating,
                title=title,
                text=text,
                language=language,
                verified=verified,
                order_id=order_id,
                posted_at=start + int(seconds[k]),
                helpful_votes=int(np.floor(-np.log1p(-votes_u[k] * 0.999) * (2.0 if rating <= 2 else 0.7))),
                cause=cause,
                defective_asin=defective,
            )
        )
    out.sort(key=lambda r: (r.posted_at, r.review_id))
    return tuple(out)


def reviews_between(
    seed: int,
    start: datetime,
    end: datetime,
    profile_name: str = "small",
    marketplace_ids: Iterable[str] | None = None,
) -> list[SandboxReview]:
    """Reviews posted in [start, end), in (posted time, id) order."""
    lo, hi = int(start.timestamp()), int(end.timestamp())
    if hi <= lo:
        return []
    wanted = set(marketplace_ids) if marketplace_ids is not None else None
    first = datetime.fromtimestamp(lo, UTC).date()
    last = datetime.fromtimestamp(hi - 1, UTC).date()
    out = []
    for offset in range((last - first).days + 1):
        for review in reviews_for_day(seed, first + timedelta(days=offset), profile_name):
            if lo <= review.posted_at < hi and (wanted is None or review.marketplace_id in wanted):
                out.append(review)
    return out
