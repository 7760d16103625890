"""ODS ASIN metrics → DWD ``asin_daily_snapshot``: one row per (ASIN, marketplace, snapshot date).

The latest version of each snapshot wins; ``ds`` is the snapshot date. The served ``price`` object
(``{amount, currencyCode}``) becomes ``price`` (decimal, in the marketplace's currency) and ``currency``;
a snapshot with only one of them, a rating outside [0, 5] or a buy-box share outside [0, 1] is rejected.
``python -m spark_jobs.asin_daily_snapshot --ds 2025-11-05`` or
``run_entity(spark, settings, SPEC, ds)``.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from spark_jobs.entity_job import main_for
from spark_jobs.entity_spec import (
    BOOLEAN,
    CURRENCY,
    DATE,
    DOUBLE,
    INTEGER,
    Check,
    EntitySpec,
    Field,
)

PRICE = "decimal(12,2)"


def _absent_or_between(column: str, low: float, high: float) -> Column:
    value = F.col(f"_t_{column}")
    return value.isNull() | value.between(low, high)


SPEC = EntitySpec(
    entity="asin_daily_snapshot",
    source="asin_metrics",
    fields=(
        Field("asin"),
        Field("marketplaceId", column="marketplace_id"),
        Field("date", DATE, column="snapshot_date"),
        Field("bsr", INTEGER, required=False),
        Field("bsrCategory", required=False, column="bsr_category"),
        Field("categoryRank", INTEGER, required=False, column="category_rank"),
        Field("category", required=False),
        Field("price_amount", PRICE, required=False, column="price", path="price.amount"),
        Field("price_currency", CURRENCY, required=False, column="currency", path="price.currencyCode"),
        Field("rating", DOUBLE, required=False),
        Field("reviewCount", INTEGER, column="review_count"),
        Field("inStock", BOOLEAN, column="in_stock"),
        Field("buyBoxShare", DOUBLE, required=False, column="buy_box_share"),
        Field("sessions", INTEGER),
        Field("pageViews", INTEGER, column="page_views"),
    ),
    key=("asin", "marketplace_id", "snapshot_date"),
    partition_by="snapshot_date",
    checks=(
        Check(
            "price and currency must both be present or both absent",
            lambda: F.col("_t_price").isNull() == F.col("_t_currency").isNull(),
        ),
        Check("bsr is not >= 1", lambda: F.col("_t_bsr").isNull() | (F.col("_t_bsr") >= 1)),
        Check(
            "category_rank is not >= 1",
            lambda: F.col("_t_category_rank").isNull() | (F.col("_t_category_rank") >= 1),
        ),
        Check("rating is not in [0, 5]", lambda: _absent_or_between("rating", 0, 5)),
        Check("buy_box_share is not in [0, 1]", lambda: _absent_or_between("buy_box_share", 0, 1)),
        Check(
            "a count is negative",
            lambda: (
                (F.col("_t_review_count") >= 0) & (F.col("_t_sessions") >= 0) & (F.col("_t_page_views") >= 0)
            ),
        ),
    ),
)


if __name__ == "__main__":
    raise SystemExit(main_for(SPEC))
