"""The product-side generators: deterministic, day-addressable, coherent and plausible for `small`."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from statistics import median

from connectors.sandbox.asin_metrics import snapshots_for_day
from connectors.sandbox.catalog_api import CATALOG_END
from connectors.sandbox.catalog_items import catalog_versions
from connectors.sandbox.orders import orders_for_day
from connectors.sandbox.products import products
from connectors.sandbox.reviews import reviews_between, reviews_for_day

SEED = 7
DAY = date(2025, 9, 10)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def test_same_seed_gives_identical_records_and_other_seeds_differ():
    snaps = snapshots_for_day(SEED, DAY)
    revs = [r.record() for r in reviews_for_day(SEED, DAY)]
    items = catalog_versions(SEED, None, CATALOG_END)
    snapshots_for_day.cache_clear()
    reviews_for_day.cache_clear()
    assert snapshots_for_day(SEED, DAY) == snaps
    assert [r.record() for r in reviews_for_day(SEED, DAY)] == revs
    assert catalog_versions(SEED, None, CATALOG_END) == items
    assert snapshots_for_day(SEED + 1, DAY) != snaps
    assert [r["text"] for r in revs] != [r.record()["text"] for r in reviews_for_day(SEED + 1, DAY)]
    assert catalog_versions(SEED + 1, None, CATALOG_END)[0]["asin"] != items[0]["asin"]


def test_a_day_generated_alone_equals_the_same_day_generated_in_a_range():
    snapshots_for_day.cache_clear()
    reviews_for_day.cache_clear()
    far = date(2026, 5, 20)
    alone_snaps = snapshots_for_day(SEED, far)
    alone_reviews = reviews_for_day(SEED, far)
    assert reviews_for_day.cache_info().currsize == 1  # no other day's reviews were generated
    snapshots_for_day.cache_clear()
    reviews_for_day.cache_clear()
    in_range = {
        far + timedelta(days=k): snapshots_for_day(SEED, far + timedelta(days=k)) for k in (-2, -1, 0, 1)
    }
    ranged_reviews = reviews_between(SEED, _at(far - timedelta(days=2)), _at(far + timedelta(days=2)))
    assert in_range[far] == alone_snaps
    assert [r for r in ranged_reviews if r.posted_at >= _at(far).timestamp()][: len(alone_reviews)] == list(
        alone_reviews
    )


def test_review_counts_in_snapshots_add_up_to_the_reviews_served():
    before = {
        (r["marketplaceId"], r["asin"]): r["reviewCount"] for r in snapshots_for_day(SEED, DAY - timedelta(1))
    }
    after = {(r["marketplaceId"], r["asin"]): r["reviewCount"] for r in snapshots_for_day(SEED, DAY)}
    posted = Counter((r.marketplace_id, r.asin) for r in reviews_for_day(SEED, DAY))
    grown = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    new_launches = set(after) - set(before)
    assert sum(posted.values()) > 50
    assert {k: v for k, v in grown.items() if k not in new_launches} == {
        k: v for k, v in posted.items() if k not in new_launches
    }


def test_small_profile_volumes_and_distributions_are_plausible():
    catalog = catalog_versions(SEED, None, CATALOG_END)
    assert len(catalog) == 2 * 2_000 and len({(r["asin"], r["marketplaceId"]) for r in catalog}) == 4_000
    assert Counter(r["version"] > 0 for r in catalog)[True] > 1_000  # listings get edited over time
    snaps = snapshots_for_day(SEED, DAY)
    per_marketplace = Counter(r["marketplaceId"] for r in snaps)
    assert all(1_400 <= n <= 2_000 for n in per_marketplace.values())  # some ASINs launch later
    us = [r for r in snaps if r["marketplaceId"] == "ATVPDKIKX0DER"]
    assert 5 < median(float(r["price"]["amount"]) for r in us) < 40
    assert 3.6 < sum(r["rating"] for r in us) / len(us) < 4.7
    for category in {r["bsrCategory"] for r in us}:
        bsrs = [r["bsr"] for r in us if r["bsrCategory"] == category]
        assert len(set(bsrs)) == len(bsrs) and min(bsrs) > 0  # a rank is a rank
    sessions = sorted(r["sessions"] for r in us)
    assert sessions[-1] > 20 * max(sessions[len(sessions) // 2], 1)  # long-tailed traffic
    assert all(r["pageViews"] >= r["sessions"] for r in snaps)
    reviews = reviews_between(SEED, _at(DAY), _at(DAY + timedelta(days=7)))
    assert 50 * 7 <= len(reviews) <= 400 * 7
    negative = [r for r in reviews if r.rating <= 2]
    assert 0.05 < len(negative) / len(reviews) < 0.3


def test_verified_reviews_link_to_real_earlier_orders_of_that_asin():
    linked = [r for r in reviews_for_day(SEED, DAY) if r.order_id is not None]
    assert len(linked) > 20 and all(r.verified for r in linked)
    orders = {o.order_id: o for lag in range(5, 26) for o in orders_for_day(SEED, DAY - timedelta(days=lag))}
    for review in linked:
        order = orders[review.order_id]
        assert order.marketplace.marketplace_id == review.marketplace_id
        assert review.asin in {item.asin for item in order.items}


def test_incremental_catalog_windows_return_each_change_once_as_of_its_latest_version():
    lo, hi = int(_at(date(2025, 6, 1)).timestamp()), int(_at(date(2025, 9, 1)).timestamp())
    window = catalog_versions(SEED, lo, hi)
    assert window and all(lo <= datetime.fromisoformat(r["lastUpdatedDate"]).timestamp() < hi for r in window)
    keys = [(r["asin"], r["marketplaceId"]) for r in window]
    assert len(keys) == len(set(keys))
    as_of_end = {(r["asin"], r["marketplaceId"]): r for r in catalog_versions(SEED, None, hi)}
    assert all(as_of_end[(r["asin"], r["marketplaceId"])] == r for r in window)
    p = products(SEED)
    assert {r["asin"] for r in catalog_versions(SEED, None, lo)} == {
        a for a, o in zip(p.asin, p.launch_ord, strict=True) if o < date(2025, 6, 1).toordinal()
    }
