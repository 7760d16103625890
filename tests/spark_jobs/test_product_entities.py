"""ODS → DWD for the product entities (ASIN daily snapshots, reviews) on the shared framework.

One day of each source is landed by the real connectors from the real sandbox (with duplicated records),
then conformed by Spark and loaded into Postgres; hand-written ODS files in the served shape cover the
rejects (ratings out of range, half a price, an unknown language).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from ops.settings import Settings
from spark_jobs.asin_daily_snapshot import SPEC as ASIN_DAILY_SNAPSHOT_SPEC
from spark_jobs.entity_job import run_entity
from spark_jobs.entity_spec import EntitySpec
from spark_jobs.review import SPEC as REVIEW_SPEC
from storage.loader import load_dwd_partitions, read_dwd_partition
from tests.spark_jobs.entity_lake import (
    assert_sandbox_day_round_trip,
    land_sandbox_day,
    write_ods,
)

DS = date(2025, 11, 5)
SEED = 23


def _snapshot_row(r: dict[str, Any]) -> dict[str, Any]:
    price = r.get("price")
    return {
        "asin": r["asin"],
        "marketplace_id": r["marketplaceId"],
        "snapshot_date": date.fromisoformat(r["date"]),
        "bsr": r.get("bsr"),
        "bsr_category": r.get("bsrCategory"),
        "category_rank": r.get("categoryRank"),
        "category": r.get("category"),
        "price": None if price is None else Decimal(price["amount"]),
        "currency": None if price is None else price["currencyCode"],
        "rating": None if r.get("rating") is None else float(r["rating"]),
        "review_count": r["reviewCount"],
        "in_stock": r["inStock"],
        "buy_box_share": None if r.get("buyBoxShare") is None else float(r["buyBoxShare"]),
        "sessions": r["sessions"],
        "page_views": r["pageViews"],
    }


def _review_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "review_id": r["reviewId"],
        "asin": r["asin"],
        "marketplace_id": r["marketplaceId"],
        "rating": r["rating"],
        "title": r["title"],
        "text": r["text"],
        "language": r["language"],
        "verified": r["verifiedPurchase"],
        "amazon_order_id": r.get("amazonOrderId"),
        "posted_at": datetime.fromisoformat(r["postedAt"].replace("Z", "+00:00")).astimezone(UTC),
        "helpful_votes": r.get("helpfulVotes"),
    }


# entity: (spec, business key of a served record, expected DWD row of a served record)
CASES: dict[str, tuple[EntitySpec, Callable[[dict], tuple], Callable[[dict], dict]]] = {
    "asin_daily_snapshot": (
        ASIN_DAILY_SNAPSHOT_SPEC,
        lambda r: (r["asin"], r["marketplaceId"], r["date"]),
        _snapshot_row,
    ),
    "review": (REVIEW_SPEC, lambda r: (r["reviewId"],), _review_row),
}


@pytest.fixture(scope="module")
def landed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One day of every product source, landed by the real connectors from a sandbox that duplicates."""
    sources = [spec.source for spec, *_ in CASES.values()]
    yield land_sandbox_day(settings, tmp_path_factory.mktemp("product-entities") / "lake", sources, SEED, DS)


@pytest.mark.parametrize("entity", list(CASES))
def test_a_sandbox_day_conforms_loads_and_reruns_identically(spark, landed, entity):
    assert_sandbox_day_round_trip(spark, landed, CASES[entity], DS)


def _snapshot(asin: str, **changes: Any) -> dict[str, Any]:
    record = {
        "asin": asin,
        "marketplaceId": "ATVPDKIKX0DER",
        "date": DS.isoformat(),
        "bsr": 18082,
        "bsrCategory": "Home & Kitchen",
        "categoryRank": 41,
        "category": "Kitchen Utensils",
        "price": {"amount": "7.99", "currencyCode": "USD"},
        "rating": 4.3,
        "reviewCount": 22,
        "inStock": True,
        "buyBoxShare": 0.981,
        "sessions": 12,
        "pageViews": 19,
    }
    return {**record, **changes}


def _review(n: int, **changes: Any) -> dict[str, Any]:
    record = {
        "reviewId": f"R{n:013d}",
        "asin": "B0TEST0001",
        "marketplaceId": "ATVPDKIKX0DER",
        "rating": 4,
        "title": "Works",
        "text": "Does what it says.",
        "language": "en",
        "verifiedPurchase": True,
        "amazonOrderId": "111-0000001-0000001",
        "postedAt": "2025-11-05T10:00:00Z",
        "helpfulVotes": 1,
    }
    return {**record, **changes}


def test_versions_resolve_and_out_of_contract_records_are_rejected_with_reasons(spark, lake_settings):
    """Nested prices are read from the served object; bad ratings, prices and languages are quarantined."""
    snapshots = [
        _snapshot("B0TEST0001", rating=3.9),
        _snapshot("B0TEST0001", price=None, inStock=False, buyBoxShare=0.0),  # later version: unlisted
        _snapshot("B0TEST0002", price={"amount": "12.5", "currencyCode": "gbp"}, bsr=None, rating=None),
        _snapshot("B0TEST0003", price={"amount": "7.999", "currencyCode": "USD"}),
        _snapshot("B0TEST0004", price={"amount": "7.99"}),
        _snapshot("B0TEST0005", rating=5.5),
        _snapshot("B0TEST0006", date="2025-11-04"),
        _snapshot("B0TEST0007", marketplaceId="A1F83G8C2ARO7P"),
    ]
    reviews = [
        _review(1, rating=1, title="Broke"),
        _review(1, rating=2, postedAt="2025-11-05T18:30:00+08:00"),  # later version, 10:30 UTC
        _review(2, rating=6),
        _review(3, language="fr"),
        _review(4, language="ZH", amazonOrderId=None, helpfulVotes=None, verifiedPurchase=False),
        _review(5, postedAt="2025-11-06T00:00:01Z"),
        _review(6, title="", text=""),  # free text may be empty
    ]
    write_ods(lake_settings, "asin_metrics", "asin_daily_snapshot", DS, snapshots)
    write_ods(lake_settings, "reviews", "review", DS, reviews)

    snap = run_entity(spark, lake_settings, ASIN_DAILY_SNAPSHOT_SPEC, DS)
    rev = run_entity(spark, lake_settings, REVIEW_SPEC, DS)

    assert (snap.rows_in, snap.rows_out, snap.duplicates_dropped, snap.rows_rejected) == (8, 3, 1, 4)
    assert snap.rejected_reasons == {
        "price_amount is not decimal(12,2)": 1,
        "price and currency must both be present or both absent": 1,
        "rating is not in [0, 5]": 1,
        "snapshot_date is not on the run's ds": 1,
    }
    assert (rev.rows_in, rev.rows_out, rev.duplicates_dropped, rev.rows_rejected) == (7, 3, 1, 3)
    assert rev.rejected_reasons == {
        "rating is not in 1-5": 1,
        "language not one of en, zh": 1,
        "posted_at is not on the run's ds": 1,
    }
    snapshot_rows = {
        (r["asin"], r["marketplace_id"]): r
        for r in read_dwd_partition(lake_settings, "asin_daily_snapshot", DS).to_pylist()
    }
    unlisted = snapshot_rows[("B0TEST0001", "ATVPDKIKX0DER")]
    assert (unlisted["price"], unlisted["currency"], unlisted["in_stock"]) == (None, None, False)
    assert unlisted["rating"] == 4.3  # the later version, not 3.9
    pounds = snapshot_rows[("B0TEST0002", "ATVPDKIKX0DER")]
    assert (pounds["price"], pounds["currency"], pounds["bsr"], pounds["rating"]) == (
        Decimal("12.50"),
        "GBP",
        None,
        None,
    )
    assert snapshot_rows[("B0TEST0007", "A1F83G8C2ARO7P")]["price"] == Decimal("7.99")

    review_rows = {r["review_id"]: r for r in read_dwd_partition(lake_settings, "review", DS).to_pylist()}
    assert sorted(review_rows) == [f"R{n:013d}" for n in (1, 4, 6)]
    assert review_rows[f"R{1:013d}"]["rating"] == 2
    assert review_rows[f"R{1:013d}"]["posted_at"] == datetime(2025, 11, 5, 10, 30, tzinfo=UTC)
    fourth = review_rows[f"R{4:013d}"]
    assert (fourth["language"], fourth["amazon_order_id"], fourth["helpful_votes"]) == ("zh", None, None)
    assert (review_rows[f"R{6:013d}"]["title"], review_rows[f"R{6:013d}"]["text"]) == (None, None)

    loaded = {e: load_dwd_partitions(lake_settings, e, [DS]) for e in ("asin_daily_snapshot", "review")}
    assert loaded == {"asin_daily_snapshot": {DS: 3}, "review": {DS: 3}}
