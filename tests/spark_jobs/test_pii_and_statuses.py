"""Keyed hash and masks agree between Python and Spark; every Amazon status has a unified state."""

from __future__ import annotations

from pydantic import SecretStr
from pyspark.sql import functions as F

from spark_jobs import pii
from spark_jobs.statuses import AMAZON, UNIFIED_STATUSES

AMAZON_STATUSES = (
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "Canceled",
    "Unfulfillable",
    "InvoiceUnconfirmed",
    "PendingAvailability",
)


def test_every_documented_amazon_status_maps_into_the_state_machine():
    assert set(AMAZON) == set(AMAZON_STATUSES)
    assert set(AMAZON.values()) <= set(UNIFIED_STATUSES)
    assert (
        AMAZON["Canceled"] == "cancelled"
        and AMAZON["Shipped"] == "shipped"
        and AMAZON["Pending"] == "pending"
    )


def test_python_and_spark_hash_and_mask_agree(spark):
    key = SecretStr("k3y")
    emails = ["abc123@marketplace.amazon.com", "x@y.z", "no-at-sign", "@domain.com", None]
    frame = spark.createDataFrame(
        [(f"C{i}", e) for i, e in enumerate(emails)], "buyer_id string, email string"
    )

    rows = (
        pii.with_pii_key(frame, spark, key)
        .select(
            "buyer_id", pii.customer_key_col(F.col("buyer_id")).alias("k"), pii.mask_email_col(F.col("email"))
        )
        .collect()
    )

    assert [(r[1], r[2]) for r in rows] == [
        (pii.customer_key(f"C{i}", key), pii.mask_email(e)) for i, e in enumerate(emails)
    ]
    assert [pii.mask_email(e) for e in emails] == [
        "a***@marketplace.amazon.com",
        "x***@y.z",
        "***",
        "***",
        None,
    ]
    assert pii.customer_key("C1", key) != pii.customer_key(
        "C1", SecretStr("other")
    )  # keyed, not a plain hash
