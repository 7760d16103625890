"""ODS reviews → DWD ``review``: one row per review (latest version wins); ``ds`` is the UTC posted date.

The star rating must be 1-5 and the language one of the sandbox marketplaces' (``en``, ``zh``); an order
link (``amazon_order_id``) is kept when the marketplace knows it, null otherwise. Title and text are free
text: trimmed, and an empty one is null.
``python -m spark_jobs.review --ds 2025-11-05`` or ``run_entity(spark, settings, SPEC, ds)``.
"""

from __future__ import annotations

from pyspark.sql import functions as F

from spark_jobs.entity_job import main_for
from spark_jobs.entity_spec import BOOLEAN, INTEGER, TIMESTAMP, Check, EntitySpec, Field

LANGUAGES = ("en", "zh")

SPEC = EntitySpec(
    entity="review",
    source="reviews",
    fields=(
        Field("reviewId", column="review_id"),
        Field("asin"),
        Field("marketplaceId", column="marketplace_id"),
        Field("rating", INTEGER),
        Field("title", required=False),
        Field("text", required=False),
        Field("language", required=False, enum=LANGUAGES),
        Field("verifiedPurchase", BOOLEAN, column="verified"),
        Field("amazonOrderId", required=False, column="amazon_order_id"),
        Field("postedAt", TIMESTAMP, column="posted_at"),
        Field("helpfulVotes", INTEGER, required=False, column="helpful_votes"),
    ),
    key=("review_id",),
    partition_by="posted_at",
    checks=(
        Check("rating is not in 1-5", lambda: F.col("_t_rating").between(1, 5)),
        Check(
            "helpful_votes is negative",
            lambda: F.col("_t_helpful_votes").isNull() | (F.col("_t_helpful_votes") >= 0),
        ),
    ),
)


if __name__ == "__main__":
    raise SystemExit(main_for(SPEC))
