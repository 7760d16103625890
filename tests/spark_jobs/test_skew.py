"""Salting changes how rows are spread over tasks, never the result: salted == plain on a skewed set."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from spark_jobs.skew import hot_keys, salted_aggregate, salted_join


@pytest.fixture
def skewed(spark):
    """Order items where seller S1 holds most rows, plus a seller dimension (one seller has no items)."""
    items = [
        (f"i{n}", "S1" if n % 10 < 7 else f"S{2 + n % 4}", Decimal(n % 13) + Decimal("0.25"))
        for n in range(400)
    ]
    items += [("i-null", None, Decimal("1.00"))]
    sellers = [("S1", "big"), ("S2", "mid"), ("S3", "mid"), ("S4", "small"), ("S9", "none")]
    return (
        spark.createDataFrame(items, "item_id string, seller_id string, amount decimal(12,2)"),
        spark.createDataFrame(sellers, "seller_id string, tier string"),
    )


def _rows(df):
    return sorted((tuple(row) for row in df.collect()), key=repr)  # repr: None sorts with strings


def test_hot_keys_are_the_keys_above_the_share(skewed):
    items, _ = skewed
    assert hot_keys(items, ["seller_id"], min_share=0.5) == [("S1",)]
    by_seller = Counter(row.seller_id for row in items.collect())
    second = sorted(by_seller.items(), key=lambda kv: (-kv[1], kv[0] or ""))[1][0]
    assert hot_keys(items, ["seller_id"], min_share=0.01, limit=2) == [("S1",), (second,)]


@pytest.mark.parametrize("how", ["inner", "left", "left_anti"])
@pytest.mark.parametrize("hot", [None, [("S1",)]])
def test_a_salted_join_returns_the_plain_join(skewed, how, hot):
    items, sellers = skewed
    plain = items.join(sellers, on=["seller_id"], how=how)
    salted = salted_join(items, sellers, ["seller_id"], 8, hot=hot, how=how)

    assert salted.columns == plain.columns
    assert _rows(salted) == _rows(plain)


def test_a_salted_join_refuses_joins_that_would_show_the_copies(skewed):
    items, sellers = skewed
    with pytest.raises(ValueError, match="right"):
        salted_join(items, sellers, ["seller_id"], 4, how="right")


def test_a_salted_aggregate_returns_the_plain_aggregate_with_its_types(skewed):
    items, _ = skewed
    aggregations = {"gmv": ("sum", "amount"), "items": ("count", "item_id"), "top": ("max", "amount")}
    plain = items.groupBy("seller_id").agg(
        F.sum("amount").alias("gmv"), F.count("item_id").alias("items"), F.max("amount").alias("top")
    )

    salted = salted_aggregate(items, ["seller_id"], aggregations, 8)

    assert [(f.name, f.dataType) for f in salted.schema] == [(f.name, f.dataType) for f in plain.schema]
    assert _rows(salted) == _rows(plain)
    with pytest.raises(ValueError, match="avg"):
        salted_aggregate(items, ["seller_id"], {"mean": ("avg", "amount")}, 8)
