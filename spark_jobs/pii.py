"""Keyed hashing and masking of buyer PII (DESIGN.md §4: PII stays in ODS; DWD keeps hash + mask).

The Spark and the Python versions must agree bit for bit: other jobs (CRM exposures, A/B assignment)
compute the same ``customer_key`` in plain Python and join on it.
"""

from __future__ import annotations

import hashlib

from pydantic import SecretStr
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

KEY_COLUMN = "_pii_key"
EMAIL_MASK_PATTERN = r"^(.)[^@]*@"


def customer_key(buyer_id: str, key: SecretStr) -> str:
    """sha256 hex of ``key|buyer_id``: stable across runs, useless without the key."""
    return hashlib.sha256(f"{key.get_secret_value()}|{buyer_id}".encode()).hexdigest()


def mask_email(email: str | None) -> str | None:
    """``abc123@marketplace.amazon.com`` → ``a***@marketplace.amazon.com``; no '@' → ``***``."""
    if email is None:
        return None
    local, at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if at and local else "***"


def with_pii_key(df: DataFrame, spark: SparkSession, key: SecretStr) -> DataFrame:
    """Attach the hash key as a column from a one-row relation instead of a literal.

    A literal would be printed by ``explain()``, analysis errors and the Spark UI; the rows of a
    local relation are not, so the key never shows up in a plan.
    """
    key_df = spark.createDataFrame([(key.get_secret_value(),)], f"{KEY_COLUMN} string")
    return df.crossJoin(F.broadcast(key_df))


def customer_key_col(buyer_id: Column) -> Column:
    """Spark twin of :func:`customer_key`; needs the frame to carry :data:`KEY_COLUMN`."""
    return F.sha2(F.concat(F.col(KEY_COLUMN), F.lit("|"), buyer_id), 256)


def mask_email_col(email: Column) -> Column:
    """Spark twin of :func:`mask_email`."""
    return (
        F.when(email.isNull(), F.lit(None).cast("string"))
        .when(email.rlike(r"^[^@]+@"), F.regexp_replace(email, EMAIL_MASK_PATTERN, "$1***@"))
        .otherwise(F.lit("***"))
    )
