"""ODS finances refund events → DWD ``refund``: one row per refunded order item per refund event.

A Finances ``RefundEventList`` record refunds some lines of one order (``ShipmentItemAdjustmentList``);
the framework explodes that list, so each line is its own row. The business key is the event key
(``AmazonOrderId``, ``PostedDate``) plus the line's ``OrderAdjustmentItemId``; ``refund_id`` spells it
out (``<order>|<posted, ISO UTC>|<adjustment id>``) so a re-served event maps to the same row and the
latest served copy wins, line by line (a re-served copy that left a line out does not delete it: the
Finances API never edits a posted event, a correction is a new event). ``ds`` is the UTC day of
``posted_at``: the connector lands a day's posted events in that day's ODS partition, and an event
posted on another day is rejected rather than written into a partition this run does not rebuild.

Amounts follow the Finances sign convention as served: ``Principal`` charges are negative (money back to
the buyer), and ``refunded_amount`` is their sum turned positive; a line without a Principal charge, with
an amount needing more than two decimals, in a currency other than its Principal's, or refunding nothing
is rejected with that reason. ``fee_amount`` is the net of the line's fee adjustments as served
(positive: credited back to the seller, e.g. the referral ``Commission``; negative: kept, e.g.
``RefundCommission``); no fee list means 0. ``MarketplaceName`` (``Amazon.com``) becomes
``marketplace_id``; an unknown name is rejected. PII: none (a refund event carries no buyer field).
``python -m spark_jobs.refund --ds 2025-11-05`` or ``run_entity(spark, settings, SPEC, ds)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from spark_jobs.entity_job import main_for
from spark_jobs.entity_spec import INTEGER, TIMESTAMP, Check, Derived, EntitySpec, Field

LINES = "ShipmentItemAdjustmentList"
MONEY = "decimal(14,2)"
PRINCIPAL = "Principal"

# SP-API MarketplaceName → MarketplaceId (the ids dwd.order_item carries).
AMAZON_MARKETPLACE_IDS: Mapping[str, str] = MappingProxyType(
    {
        "Amazon.com": "ATVPDKIKX0DER",
        "Amazon.co.uk": "A1F83G8C2ARO7P",
        "Amazon.ca": "A2EUQ1WTGCTBG2",
        "Amazon.de": "A1PA6795UKMFR9",
        "Amazon.co.jp": "A1VC38T7YXB528",
    }
)


def _adjustments(kind: str) -> ArrayType:
    """``[{"<kind>Type": …, "<kind>Amount": {"CurrencyCode": …, "CurrencyAmount": …}}]``, amounts as text."""
    amount = StructType(
        [StructField("CurrencyCode", StringType()), StructField("CurrencyAmount", StringType())]
    )
    return ArrayType(
        StructType([StructField(f"{kind}Type", StringType()), StructField(f"{kind}Amount", amount)])
    )


def _charges() -> Column:
    return F.from_json(F.col("_t_charges"), _adjustments("Charge"))


def _fees() -> Column:
    return F.from_json(F.coalesce(F.col("_t_fees"), F.lit("[]")), _adjustments("Fee"))


def _exact(text: Column) -> Column:
    """The amount as ``MONEY``, null when absent or when it would be rounded."""
    value = text.try_cast(MONEY)
    return F.when(value == text.try_cast("decimal(38,18)"), value)


def _sum(adjustments: Column, amount_field: str) -> Column:
    """Exact sum of the amounts; null when any amount is not exact (so the line is rejected, not rounded)."""
    zero = F.lit(0).cast(MONEY)
    return F.aggregate(
        adjustments, zero, lambda acc, a: (acc + _exact(a[amount_field]["CurrencyAmount"])).cast(MONEY)
    )


def _principals() -> Column:
    return F.filter(_charges(), lambda c: c["ChargeType"] == PRINCIPAL)


def refunded_amount() -> Column:
    """Sum of the Principal charges turned positive; null without one."""
    principals = _principals()
    return F.when(F.size(principals) > 0, -_sum(principals, "ChargeAmount"))


def refunded_amount_reason() -> Column:
    if_missing = F.lit(f"no {PRINCIPAL} charge adjustment")
    return F.when(F.size(_principals()) > 0, F.lit(f"a charge amount is not {MONEY}")).otherwise(if_missing)


def fee_amount() -> Column:
    return _sum(_fees(), "FeeAmount")


def currency() -> Column:
    """The currency of the line's first Principal charge (the check below holds every amount to it)."""
    code = F.upper(F.trim(F.try_element_at(_principals(), F.lit(1))["ChargeAmount"]["CurrencyCode"]))
    return F.when(code.rlike(r"^[A-Z]{3}$"), code)


def one_currency() -> Column:
    """Every charge and fee of the line is in ``currency``."""
    codes = F.concat(
        F.transform(_charges(), lambda c: c["ChargeAmount"]["CurrencyCode"]),
        F.transform(_fees(), lambda f: f["FeeAmount"]["CurrencyCode"]),
    )
    return F.forall(codes, lambda c: F.upper(F.trim(c)) == F.col("_t_currency"))


def refund_id() -> Column:
    """``<order>|<posted_at, ISO UTC>|<adjustment id>``: the same line of the same event, on every serve."""
    posted = F.date_format(F.col("_t_posted_at"), "yyyy-MM-dd'T'HH:mm:ss'Z'")
    return F.concat_ws("|", F.col("_t_amazon_order_id"), posted, F.col("_t_order_adjustment_item_id"))


def marketplace_id() -> Column:
    mapping = F.create_map(*[F.lit(v) for pair in AMAZON_MARKETPLACE_IDS.items() for v in pair])
    return mapping[F.col("_t_sales_channel")]


def unknown_marketplace() -> Column:
    return F.concat(
        F.lit("MarketplaceName "), F.col("_t_sales_channel"), F.lit(" is not a known marketplace")
    )


SPEC = EntitySpec(
    entity="refund",
    source="finances",
    ods_entity="refund_event",
    explode=LINES,
    fields=(
        Field("AmazonOrderId", column="amazon_order_id"),
        Field("PostedDate", TIMESTAMP, column="posted_at"),
        Field(
            "OrderAdjustmentItemId",
            column="order_adjustment_item_id",
            path=f"{LINES}[].OrderAdjustmentItemId",
        ),
        Field("OrderItemId", column="order_item_id", path=f"{LINES}[].OrderItemId"),
        Field("MarketplaceName", column="sales_channel"),
        Field("ASIN", column="asin", path=f"{LINES}[].ASIN"),
        Field("SellerSKU", column="seller_sku", required=False, path=f"{LINES}[].SellerSKU"),
        Field("QuantityShipped", INTEGER, column="quantity", path=f"{LINES}[].QuantityShipped"),
        Field(
            "ItemChargeAdjustmentList",
            column="charges",
            path=f"{LINES}[].ItemChargeAdjustmentList",
            keep=False,
        ),
        Field(
            "ItemFeeAdjustmentList",
            column="fees",
            required=False,
            path=f"{LINES}[].ItemFeeAdjustmentList",
            keep=False,
        ),
    ),
    derived=(
        Derived("refund_id", expr=refund_id, reason=lambda: F.lit("refund_id could not be formed")),
        Derived("marketplace_id", expr=marketplace_id, reason=unknown_marketplace),
        Derived("refunded_amount", expr=refunded_amount, reason=refunded_amount_reason),
        Derived("fee_amount", expr=fee_amount, reason=lambda: F.lit(f"a fee amount is not {MONEY}")),
        Derived(
            "currency", expr=currency, reason=lambda: F.lit(f"{PRINCIPAL} currency is not a currency code")
        ),
    ),
    key=("amazon_order_id", "posted_at", "order_adjustment_item_id"),
    partition_by="posted_at",
    checks=(
        Check("quantity is not positive", lambda: F.col("_t_quantity") >= 1),
        Check("refunded_amount is not positive", lambda: F.col("_t_refunded_amount") > 0),
        Check("charges and fees are not all in one currency", one_currency),
    ),
)


if __name__ == "__main__":
    raise SystemExit(main_for(SPEC))
