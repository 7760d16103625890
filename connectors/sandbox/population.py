"""Time-independent parts of the synthetic world: customers (with latent behaviour) and the catalog.

Everything here is a pure function of (seed, profile), computed vectorised once and cached, so any day's
orders can be generated without touching other days.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from connectors.sandbox.profiles import get_profile

# Stream ids for np.random.default_rng([seed, 0, stream]); day streams use the day's ordinal (>= 1) instead.
STREAM_MARKETPLACE = 1
STREAM_RATE = 2
STREAM_ACQUIRED = 3
STREAM_LIFETIME = 4
STREAM_IDENTITY = 5
STREAM_ASIN_PRICE = 6
STREAM_ASIN_RANK = 7
STREAM_CHURN_CAUSE = 8

# Customers are acquired uniformly over these years, so the active population is roughly stationary
# over the sandbox calendar (2024-2026); lifetimes are exponential, which makes drop-out memoryless.
ACQUISITION_START = date(2023, 1, 1)
ACQUISITION_END = date(2026, 12, 31)
MEAN_LIFETIME_DAYS = 365.0
MIN_LIFETIME_DAYS = 14
RATE_GAMMA_SHAPE = 0.9  # heterogeneity of purchase rates (mean 1, CV ~ 1.05)

# Why a customer drops out. A triggered drop-out follows a bad experience on the orders placed in
# TRIGGER_WINDOW_DAYS before it (a late parcel, or a defective item that gets returned); see orders.py.
CHURN_NATURAL, CHURN_LATE_DELIVERY, CHURN_QUALITY = 0, 1, 2
CHURN_CAUSES = ("natural", "late_delivery", "quality")
CHURN_CAUSE_P = (0.45, 0.35, 0.20)
TRIGGER_WINDOW_DAYS = (24, 17)  # orders purchased in [drop - 24, drop - 17) days carry the trigger

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "James", "Isla", "Jack",
    "Mia", "Harry", "Grace", "George", "Chloe", "Lucas", "Ella", "Mateo", "Aria", "Leo", "Zoe", "Henry",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Taylor", "Wilson",
    "Evans", "Thomas", "Roberts", "Walker", "Wright", "Chen", "Patel", "Khan", "Lee", "Martin",
)  # fmt: skip
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Customers:
    """Customer arrays indexed by customer number; latent params are evaluation truth."""

    marketplace_idx: np.ndarray  # index into profile.marketplaces
    purchase_rate: np.ndarray  # relative daily purchase intensity, Gamma(0.9) with mean 1
    acquired_ord: np.ndarray  # first day (ordinal) the customer can buy
    drops_out_ord: np.ndarray  # first day (ordinal) the customer no longer buys
    churn_cause: np.ndarray  # CHURN_* code: what ends the customer's lifetime
    buyer_id: tuple[str, ...]
    email: tuple[str, ...]
    name: tuple[str, ...]
    phone: tuple[str, ...]

    def active_mask(self, day: date) -> np.ndarray:
        ordinal = day.toordinal()
        return (self.acquired_ord <= ordinal) & (ordinal < self.drops_out_ord)

    def trigger(self, customer: np.ndarray, ordinal: int) -> np.ndarray:
        """CHURN_* code of the bad experience an order placed on ``ordinal`` carries (0: none).

        Day-independent by construction: the drop-out day is drawn first, and the experience that causes
        it is planted on the orders placed shortly before, so no day needs the history before it.
        """
        lead = self.drops_out_ord[customer] - ordinal
        inside = (lead > TRIGGER_WINDOW_DAYS[1]) & (lead <= TRIGGER_WINDOW_DAYS[0])
        return np.where(inside, self.churn_cause[customer], CHURN_NATURAL)


@dataclass(frozen=True)
class Catalog:
    """ASINs with fixed prices (cents, per marketplace) and a Zipf-like popularity."""

    asin: tuple[str, ...]
    sku: tuple[str, ...]
    price_cents: np.ndarray  # shape (n_marketplaces, n_asins)
    popularity: np.ndarray  # probabilities summing to 1


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, 0, stream])


def buyer_id(customer: int) -> str:
    return f"C{customer:07d}"


@lru_cache(maxsize=4)
def customers(seed: int, profile_name: str = "small") -> Customers:
    """All customers of a (seed, profile); each parameter has its own stream so they are independent."""
    profile = get_profile(profile_name)
    n = profile.n_customers
    shares = np.array([mp.customer_share for mp in profile.marketplaces])
    marketplace_idx = _rng(seed, STREAM_MARKETPLACE).choice(len(shares), size=n, p=shares / shares.sum())
    rate = _rng(seed, STREAM_RATE).gamma(RATE_GAMMA_SHAPE, 1.0 / RATE_GAMMA_SHAPE, size=n)
    span = ACQUISITION_END.toordinal() - ACQUISITION_START.toordinal() + 1
    acquired = ACQUISITION_START.toordinal() + _rng(seed, STREAM_ACQUIRED).integers(0, span, size=n)
    lifetime = MIN_LIFETIME_DAYS + np.ceil(_rng(seed, STREAM_LIFETIME).exponential(MEAN_LIFETIME_DAYS, n))
    cause = _rng(seed, STREAM_CHURN_CAUSE).choice(len(CHURN_CAUSE_P), size=n, p=CHURN_CAUSE_P)
    identity = _rng(seed, STREAM_IDENTITY)
    first = identity.integers(0, len(FIRST_NAMES), size=n)
    last = identity.integers(0, len(LAST_NAMES), size=n)
    phone_a = identity.integers(0, 10_000, size=n)
    phone_b = identity.integers(0, 1_000, size=n)
    countries = [profile.marketplaces[i].country for i in marketplace_idx]
    return Customers(
        marketplace_idx=marketplace_idx,
        purchase_rate=rate,
        acquired_ord=acquired,
        drops_out_ord=acquired + lifetime.astype(np.int64),
        churn_cause=cause,
        buyer_id=tuple(buyer_id(i) for i in range(n)),
        email=tuple(
            hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=8).hexdigest() + "@marketplace.amazon.com"
            for i in range(n)
        ),
        name=tuple(f"{FIRST_NAMES[f]} {LAST_NAMES[s]}" for f, s in zip(first, last, strict=True)),
        phone=tuple(
            f"+1 555 {a:04d} {b:03d}" if c == "US" else f"+44 7700 900{b:03d}"
            for a, b, c in zip(phone_a, phone_b, countries, strict=True)
        ),
    )


def _asin(i: int, offset: int) -> str:
    value = (i * 2_654_435_761 + offset) % 36**8  # a bijection on 8 base-36 digits
    digits = []
    for _ in range(8):
        value, rem = divmod(value, 36)
        digits.append(_BASE36[rem])
    return "B0" + "".join(reversed(digits))


@lru_cache(maxsize=4)
def catalog(seed: int, profile_name: str = "small") -> Catalog:
    """The ASINs sold in every marketplace, with prices fixed by the seed."""
    profile = get_profile(profile_name)
    n = profile.n_asins
    price_rng = _rng(seed, STREAM_ASIN_PRICE)
    offset = int(price_rng.integers(0, 36**8))
    whole_usd = np.clip(np.floor(np.exp(price_rng.normal(np.log(20.0), 0.7, size=n))), 3, 300)
    price_cents = np.stack(
        [
            (np.floor(whole_usd * mp.price_factor).clip(2) * 100 + 99).astype(np.int64)
            for mp in profile.marketplaces
        ]
    )
    rank = _rng(seed, STREAM_ASIN_RANK).permutation(n)
    weight = 1.0 / (rank + 5.0) ** 1.1
    return Catalog(
        asin=tuple(_asin(i, offset) for i in range(n)),
        sku=tuple(f"MRC-{i:05d}" for i in range(n)),
        price_cents=price_cents,
        popularity=weight / weight.sum(),
    )
