"""Time-independent product world: taxonomy, listings and their edits, latent quality and momentum.

The generative story (parameters are the module constants):
- Every ASIN of ``population.catalog`` gets a leaf category, a brand, a title, a launch date (20% launch
  during the calendar), listing-quality attributes, a latent quality in [0, 1] (Beta) and a ``defective``
  flag (more likely when quality is low; drives quality complaints in reviews).
- About ``BREAKOUT_BASE`` of ASINs (more with good listings and for new launches) have one *breakout*: a
  latent momentum ``M(t) = s * sigmoid((t - B) / tau)`` that lifts log-demand by ``s`` around day ``B`` and
  fades slowly afterwards. Its observable precursors: review *buzz* starting ``buzz_lead`` days earlier,
  a price cut before B (for most), and a listing upgrade before B (for some). Every ASIN also has a smooth
  sinusoidal drift in demand, which moves ranks without predicting a breakout (so trend-following alone
  is not the oracle).
- Every ASIN has a landed unit cost, a constant share of its launch list price per marketplace: a
  Beta-shaped ratio (``COST_RATIO``) for most, and a high ratio (``LOW_MARGIN_RATIO``) for a planted
  ``LOW_MARGIN_SHARE`` (``low_margin``: the truth a low-margin alert should find), plus a fulfillment
  channel (FBA / FBM / DROP_SHIP) and a sample flag (samples and drop-ship listings are outside that rule).
Everything is a pure function of (seed, profile) from its own random stream, cached once; per-day values
(``momentum``, ``drift``) are closed forms, so any day can be computed alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from connectors.sandbox.population import catalog
from connectors.sandbox.profiles import get_profile

CALENDAR_START = date(2025, 1, 1)
CALENDAR_END = date(2026, 6, 30)
HISTORY_START = date(2024, 10, 1)  # snapshots and reviews are served from here, so trends exist on day one
HORIZON_DAYS = 28  # the breakout label looks this far ahead

# Streams [seed, 0, stream] (population uses 1-7, orders' day streams 11-13).
STREAM_TAXONOMY = 21
STREAM_LISTING = 22
STREAM_MOMENTUM = 23
STREAM_QUALITY = 24
STREAM_EDITS = 25
STREAM_COST = 26

BREAKOUT_BASE = 0.10  # plus up to 0.12 for a perfect listing and 0.08 for a calendar launch
NEW_LAUNCH_SHARE = 0.20
DEFECTIVE_BASE = 0.04
COST_RATIO = (0.15, 0.35, 2.0, 5.0)  # unit cost / list price = lo + span * Beta(a, b): margin ~50-85%
LOW_MARGIN_SHARE = 0.08
LOW_MARGIN_RATIO = (0.72, 0.88)  # uniform: margin 12-28%, below the 35% alert line even after a 10% raise
FULFILLMENT_CHANNELS = ("FBA", "FBM", "DROP_SHIP")
FULFILLMENT_SHARES = (0.75, 0.17, 0.08)
SAMPLE_SHARE = 0.03

TAXONOMY: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Home & Kitchen",
        "Storage & Organization",
        ("Storage Bins", "Drawer Organizer", "Shelf Rack"),
        ("lid", "handle", "frame"),
    ),
    (
        "Home & Kitchen",
        "Kitchen Utensils",
        ("Silicone Spatula Set", "Garlic Press", "Vegetable Chopper"),
        ("handle", "blade", "hinge"),
    ),
    (
        "Home & Kitchen",
        "Bedding",
        ("Pillowcase Set", "Weighted Blanket", "Mattress Topper"),
        ("zipper", "seam", "fabric"),
    ),
    (
        "Sports & Outdoors",
        "Yoga",
        ("Yoga Mat", "Yoga Blocks", "Resistance Bands"),
        ("surface", "strap", "edge"),
    ),
    (
        "Sports & Outdoors",
        "Camping",
        ("Camping Lantern", "Hammock", "Collapsible Water Bottle"),
        ("switch", "strap", "cap"),
    ),
    (
        "Sports & Outdoors",
        "Cycling",
        ("Bike Light Set", "Phone Mount", "Saddle Cover"),
        ("clip", "mount", "cover"),
    ),
    (
        "Electronics",
        "Phone Accessories",
        ("Phone Case", "Screen Protector", "Magnetic Ring Holder"),
        ("corner", "glass", "magnet"),
    ),
    (
        "Electronics",
        "Chargers",
        ("USB-C Charger", "Wireless Charging Pad", "Power Bank"),
        ("cable", "port", "plug"),
    ),
    (
        "Electronics",
        "Headphones",
        ("Wireless Earbuds", "Over-Ear Headphones", "Kids Headphones"),
        ("hinge", "ear cushion", "battery"),
    ),
    (
        "Beauty & Personal Care",
        "Hair Tools",
        ("Hair Straightener", "Heatless Curlers", "Scalp Massager"),
        ("plate", "cord", "bristles"),
    ),
    (
        "Beauty & Personal Care",
        "Makeup Brushes",
        ("Makeup Brush Set", "Beauty Sponge Set", "Brush Cleaner"),
        ("bristles", "handle", "case"),
    ),
    (
        "Toys & Games",
        "Building Toys",
        ("Magnetic Tiles", "Building Blocks Set", "Marble Run"),
        ("magnet", "piece", "connector"),
    ),
    (
        "Toys & Games",
        "Puzzles",
        ("1000 Piece Puzzle", "Wooden Brain Teaser", "3D Puzzle"),
        ("piece", "box", "edge"),
    ),
    ("Pet Supplies", "Dog Toys", ("Chew Toy", "Rope Toy", "Treat Puzzle"), ("seam", "rope", "squeaker")),
    (
        "Pet Supplies",
        "Pet Grooming",
        ("Deshedding Brush", "Nail Clipper", "Grooming Glove"),
        ("bristles", "blade", "strap"),
    ),
)
TOP_CATEGORIES = tuple(dict.fromkeys(t[0] for t in TAXONOMY))
BSR_DEPTH = (190, 120, 260, 140, 80, 70)  # BSR per rank step: our ASINs are a sample of the whole category
BRANDS = (
    "Aukoo", "Vemtra", "Lumiwell", "Nordhaus", "Peakly", "Zendo", "Kivora", "Brightnest", "Orvex",
    "Solmate", "Tidelyn", "Hearthly", "Quobi", "Marlo & Finch", "Yestar", "Gravix", "Pawsome", "Lunavo",
    "Cozeri", "Trekko",
)  # fmt: skip
ADJECTIVES = (
    "Premium",
    "Upgraded",
    "Heavy Duty",
    "Portable",
    "Eco-Friendly",
    "Compact",
    "Professional",
    "Soft",
)
FEATURES = (
    "Non-Slip", "BPA Free", "Fast Charging", "Waterproof", "Foldable", "Dishwasher Safe", "Lightweight",
    "Long Lasting", "Gift Ready", "Easy to Clean",
)  # fmt: skip
TITLE_SUFFIXES = (" - 2025 Upgraded Version", " (Pack of 2)", " - New Design", " with Storage Bag")

EDIT_PRICE, EDIT_TITLE, EDIT_IMAGES, EDIT_UPGRADE = "price", "title", "images", "upgrade"


@dataclass(frozen=True)
class Edit:
    """A listing change that takes effect at ``at`` (epoch seconds): a new catalog version."""

    at: int
    kind: str
    value: float


@dataclass(frozen=True)
class Products:
    """Per-ASIN arrays (index = catalog index). Observable attributes plus latent truth."""

    asin: tuple[str, ...]
    leaf: np.ndarray  # index into TAXONOMY
    top: np.ndarray  # index into TOP_CATEGORIES
    brand: np.ndarray
    title: tuple[str, ...]  # title at launch
    launch_ord: np.ndarray
    image_count: np.ndarray  # at launch
    bullet_count: np.ndarray
    has_aplus: np.ndarray
    log_pop: np.ndarray  # log of catalog popularity (the orders' demand weights)
    # latent
    quality: np.ndarray  # Beta-shaped, 0..1
    defective: np.ndarray
    breakout: np.ndarray
    breakout_ord: np.ndarray  # day B of the breakout (meaningless where breakout is False)
    strength: np.ndarray  # s: log-demand gain at full momentum (0 without a breakout)
    ramp_days: np.ndarray  # tau
    buzz_lead: np.ndarray
    price_cut: np.ndarray  # the seller cuts price ahead of the breakout
    price_cut_lead: np.ndarray
    price_cut_depth: np.ndarray
    drift_amp: np.ndarray
    drift_period: np.ndarray
    drift_phase: np.ndarray
    edits: tuple[tuple[Edit, ...], ...]
    cost_ratio: np.ndarray  # landed unit cost / launch list price (constant over the calendar)
    low_margin: np.ndarray  # planted: high cost ratio (truth for the low-margin alert)
    fulfillment: np.ndarray  # index into FULFILLMENT_CHANNELS
    is_sample: np.ndarray

    def listing_score(self) -> np.ndarray:
        """Observable listing quality at launch in [0, 1] (images, bullets, A+ content)."""
        return (
            0.4 * (self.image_count - 3) / 6 + 0.2 * (self.bullet_count - 3) / 2 + 0.4 * self.has_aplus
        ).clip(0, 1)

    def launched(self, ordinal: int) -> np.ndarray:
        return self.launch_ord <= ordinal


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, 0, stream])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


def _epoch(ordinal: int) -> int:
    return (ordinal - date(1970, 1, 1).toordinal()) * 86_400


@lru_cache(maxsize=4)
def products(seed: int, profile_name: str = "small") -> Products:
    """The product world of (seed, profile); each aspect has its own stream, so they stay independent."""
    profile = get_profile(profile_name)
    cat = catalog(seed, profile_name)
    n = profile.n_asins

    tax = _rng(seed, STREAM_TAXONOMY)
    leaf = tax.integers(0, len(TAXONOMY), size=n)
    top = np.array([TOP_CATEGORIES.index(TAXONOMY[i][0]) for i in leaf])
    brand = tax.integers(0, len(BRANDS), size=n)
    noun = tax.integers(0, 3, size=n)
    adj = tax.integers(0, len(ADJECTIVES), size=n)
    feat = tax.integers(0, len(FEATURES), size=(n, 2))
    count = tax.choice((1, 2, 4, 6, 12), size=n, p=(0.5, 0.2, 0.15, 0.1, 0.05))
    titles = tuple(
        f"{BRANDS[brand[i]]} {ADJECTIVES[adj[i]]} {TAXONOMY[leaf[i]][2][noun[i]]}, "
        f"{FEATURES[feat[i, 0]]} and {FEATURES[feat[i, 1]]}" + (f", {count[i]} Pack" if count[i] > 1 else "")
        for i in range(n)
    )

    listing = _rng(seed, STREAM_LISTING)
    new = listing.random(n) < NEW_LAUNCH_SHARE
    old_span = (HISTORY_START.toordinal() - date(2021, 1, 1).toordinal(), date(2021, 1, 1).toordinal())
    new_span = (CALENDAR_END.toordinal() - 45 - CALENDAR_START.toordinal(), CALENDAR_START.toordinal())
    launch = np.where(
        new,
        new_span[1] + listing.integers(0, new_span[0], size=n),
        old_span[1] + listing.integers(0, old_span[0], size=n),
    )
    image_count = listing.integers(3, 10, size=n)
    bullet_count = listing.integers(3, 6, size=n)
    has_aplus = listing.random(n) < 0.45

    qual = _rng(seed, STREAM_QUALITY)
    quality = qual.beta(5.0, 2.0, size=n)
    defective = qual.random(n) < DEFECTIVE_BASE + 0.25 * (1 - quality) ** 2

    mom = _rng(seed, STREAM_MOMENTUM)
    score = (0.4 * (image_count - 3) / 6 + 0.2 * (bullet_count - 3) / 2 + 0.4 * has_aplus).clip(0, 1)
    p_break = BREAKOUT_BASE + 0.12 * score + 0.08 * new
    breakout = mom.random(n) < p_break
    earliest = np.maximum(HISTORY_START.toordinal() + 30, launch + 21)
    latest = CALENDAR_END.toordinal() + HORIZON_DAYS
    breakout_ord = earliest + (mom.random(n) * np.maximum(latest - earliest, 1)).astype(np.int64)
    strength = np.where(breakout, np.exp(mom.normal(np.log(1.3), 0.35, size=n)), 0.0)
    ramp_days = mom.uniform(4.0, 10.0, size=n)
    buzz_lead = mom.uniform(6.0, 20.0, size=n)
    price_cut = breakout & (mom.random(n) < 0.55)
    price_cut_lead = mom.integers(5, 22, size=n)
    price_cut_depth = mom.uniform(0.08, 0.25, size=n)
    upgrade = breakout & (mom.random(n) < 0.4)
    upgrade_lead = mom.integers(8, 30, size=n)
    drift_amp = mom.uniform(0.1, 0.45, size=n)
    drift_period = mom.uniform(40.0, 160.0, size=n)
    drift_phase = mom.uniform(0, 2 * np.pi, size=n)

    ed = _rng(seed, STREAM_EDITS)
    n_edits = np.minimum(ed.poisson(1.2, size=n), 3)
    edits = []
    first_edit = np.maximum(launch + 7, HISTORY_START.toordinal())
    for i in range(n):
        span = max(CALENDAR_END.toordinal() - int(first_edit[i]), 1)
        days = sorted(int(first_edit[i]) + int(d) for d in ed.integers(0, span, size=n_edits[i]))
        kinds = ed.integers(0, 3, size=n_edits[i])
        values = ed.random(n_edits[i])
        items = [
            Edit(_epoch(d) + int(v * 86_000), (EDIT_PRICE, EDIT_TITLE, EDIT_IMAGES)[k], float(v))
            for d, k, v in zip(days, kinds, values, strict=True)
        ]
        if upgrade[i]:
            d = int(breakout_ord[i] - upgrade_lead[i])
            if d > launch[i]:
                items.append(Edit(_epoch(d) + 3_600 * int(upgrade_lead[i]), EDIT_UPGRADE, 1.0))
        edits.append(tuple(sorted(items, key=lambda e: e.at)))

    cost = _rng(seed, STREAM_COST)
    low_margin = cost.random(n) < LOW_MARGIN_SHARE
    lo, span, a, b = COST_RATIO
    cost_ratio = np.where(
        low_margin, cost.uniform(*LOW_MARGIN_RATIO, size=n), lo + span * cost.beta(a, b, size=n)
    )
    fulfillment = cost.choice(len(FULFILLMENT_CHANNELS), size=n, p=FULFILLMENT_SHARES)
    is_sample = cost.random(n) < SAMPLE_SHARE

    return Products(
        asin=cat.asin,
        leaf=leaf,
        top=top,
        brand=brand,
        title=titles,
        launch_ord=launch,
        image_count=image_count,
        bullet_count=bullet_count,
        has_aplus=has_aplus,
        log_pop=np.log(cat.popularity),
        quality=quality,
        defective=defective,
        breakout=breakout,
        breakout_ord=breakout_ord,
        strength=strength,
        ramp_days=ramp_days,
        buzz_lead=buzz_lead,
        price_cut=price_cut,
        price_cut_lead=price_cut_lead,
        price_cut_depth=price_cut_depth,
        drift_amp=drift_amp,
        drift_period=drift_period,
        drift_phase=drift_phase,
        edits=tuple(edits),
        cost_ratio=cost_ratio,
        low_margin=low_margin,
        fulfillment=fulfillment,
        is_sample=is_sample,
    )


def low_margin_rule_applies(p: Products) -> np.ndarray:
    """ASINs the low-margin rule judges: not samples and not drop-shipped."""
    return ~p.is_sample & (p.fulfillment != FULFILLMENT_CHANNELS.index("DROP_SHIP"))


def unit_cost_cents(p: Products, list_price_cents: np.ndarray) -> np.ndarray:
    """Landed unit cost (n_marketplaces, n_asins) from launch list prices of the same shape."""
    return np.round(list_price_cents * p.cost_ratio[None, :]).astype(np.int64)


def _fade(p: Products, ordinal: float) -> np.ndarray:
    return np.exp(-np.maximum(0.0, ordinal - p.breakout_ord - 45) / 150.0)


def momentum(p: Products, ordinal: float) -> np.ndarray:
    """Latent breakout momentum (log-demand lift) of every ASIN on a day: the thing a ranker should find."""
    return p.strength * _sigmoid((ordinal - p.breakout_ord) / p.ramp_days) * _fade(p, ordinal)


def buzz(p: Products, ordinal: float) -> np.ndarray:
    """The breakout's early echo in review activity, ``buzz_lead`` days ahead of the demand lift."""
    return p.strength * _sigmoid((ordinal - p.breakout_ord + p.buzz_lead) / p.ramp_days) * _fade(p, ordinal)


def drift(p: Products, ordinal: float) -> np.ndarray:
    """Smooth non-breakout demand movement (moves ranks, predicts nothing about breakouts)."""
    return p.drift_amp * np.sin(2 * np.pi * ordinal / p.drift_period + p.drift_phase)


@dataclass(frozen=True)
class Listing:
    """A catalog version of one ASIN."""

    version: int
    updated_at: int
    title: str
    price_factor: float
    image_count: int
    bullet_count: int
    has_aplus: bool


def listing_as_of(p: Products, i: int, at: int) -> Listing | None:
    """The listing of ASIN ``i`` as of epoch second ``at`` (None before launch)."""
    launched_at = _epoch(int(p.launch_ord[i]))
    if at < launched_at:
        return None
    state = Listing(
        0, launched_at, p.title[i], 1.0, int(p.image_count[i]), int(p.bullet_count[i]), bool(p.has_aplus[i])
    )
    for edit in p.edits[i]:
        if edit.at > at:
            break
        v = state.version + 1
        if edit.kind == EDIT_PRICE:
            factor = round(state.price_factor * (0.85 + 0.3 * edit.value), 3)
            state = Listing(
                v, edit.at, state.title, factor, state.image_count, state.bullet_count, state.has_aplus
            )
        elif edit.kind == EDIT_TITLE:
            title = p.title[i] + TITLE_SUFFIXES[int(edit.value * len(TITLE_SUFFIXES))]
            state = Listing(
                v, edit.at, title, state.price_factor, state.image_count, state.bullet_count, state.has_aplus
            )
        elif edit.kind == EDIT_IMAGES:
            images = min(state.image_count + 1 + int(edit.value * 2), 12)
            state = Listing(
                v, edit.at, state.title, state.price_factor, images, state.bullet_count, state.has_aplus
            )
        else:  # EDIT_UPGRADE: the seller polishes the listing ahead of a push
            images = min(state.image_count + 3, 12)
            state = Listing(v, edit.at, state.title, state.price_factor, images, 5, True)
    return state


def price_factors(p: Products, ordinal: int) -> np.ndarray:
    """List-price multiplier of every ASIN at the end of a day (from price edits)."""
    at = _epoch(ordinal) + 86_399
    out = np.ones(len(p.asin))
    for i, edits in enumerate(p.edits):
        if any(e.kind == EDIT_PRICE and e.at <= at for e in edits):
            state = listing_as_of(p, i, at)
            out[i] = state.price_factor if state else 1.0
    return out


def star_probabilities(p: Products) -> np.ndarray:
    """P(rating = 1..5) of a review of each ASIN (n, 5): low quality and defects mean more 1-2 stars."""
    negative = (0.05 + 0.2 * (1 - p.quality) + 0.25 * p.defective).clip(0, 0.7)
    three = (1 - negative) * (0.06 + 0.2 * (1 - p.quality))
    four = (1 - negative) * 0.25
    five = 1 - negative - three - four
    return np.stack([0.6 * negative, 0.4 * negative, three, four, five], axis=1)


GRADE_THRESHOLDS = (0.15, 0.5, 1.0)  # future momentum gain needed for breakout grades 1, 2, 3


def future_gain(p: Products, ordinal: int, horizon: int = HORIZON_DAYS) -> np.ndarray:
    """How much breakout momentum each ASIN gains over the next ``horizon`` days (the ranker's target)."""
    return momentum(p, ordinal + horizon) - momentum(p, ordinal)


def breakout_grade(gain: np.ndarray) -> np.ndarray:
    """Graded relevance 0-3 of a future gain, for LambdaRank and NDCG."""
    return np.searchsorted(np.array(GRADE_THRESHOLDS), gain, side="right")
