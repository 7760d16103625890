"""Explicit schemas for the ODS inputs and DWD outputs, so no job ever infers types from data.

Inference would change column types with whatever a day's sample happens to contain; an explicit
schema makes the contract with the connector visible and reviewable in one place.
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

CORRUPT_RECORD = "_corrupt_record"

MONEY = StructType(
    [
        StructField("CurrencyCode", StringType()),
        # Amounts arrive as strings ("45.98"); they are parsed to decimals in the job, never to floats.
        StructField("Amount", StringType()),
    ]
)

# BuyerName and BuyerPhone are deliberately absent: fields the job never reads cannot leak into DWD.
BUYER_INFO = StructType(
    [
        StructField("BuyerId", StringType()),
        StructField("BuyerEmail", StringType()),
    ]
)

ORDER_ITEM = StructType(
    [
        StructField("OrderItemId", StringType()),
        StructField("ASIN", StringType()),
        StructField("SellerSKU", StringType()),
        StructField("QuantityOrdered", LongType()),
        StructField("ItemPrice", MONEY),
    ]
)

# One raw order per JSON line, as the SP-API Orders endpoint serves it (plus its items).
ODS_ORDER = StructType(
    [
        StructField("AmazonOrderId", StringType()),
        StructField("PurchaseDate", StringType()),
        StructField("LastUpdateDate", StringType()),
        StructField("OrderStatus", StringType()),
        # A file-export importer's own status when SP-API's vocabulary is too coarse (Olist "delivered").
        StructField("ChannelOrderStatus", StringType()),
        StructField("MarketplaceId", StringType()),
        StructField("SalesChannel", StringType()),
        StructField("BuyerInfo", BUYER_INFO),
        StructField("OrderTotal", MONEY),
        StructField("OrderItems", ArrayType(ORDER_ITEM)),
        # Spark fills this with the raw line when it cannot parse it; it holds PII and is never written.
        StructField(CORRUPT_RECORD, StringType()),
    ]
)

# DWD order_item, in the column order of storage/sql/dwd_order_item.sql (ds is the partition column).
# The job checks its output against these names and types; nullability documents the SQL contract.
DWD_ORDER_ITEM = StructType(
    [
        StructField("order_item_id", StringType(), nullable=False),
        StructField("order_id", StringType(), nullable=False),
        StructField("marketplace_id", StringType(), nullable=False),
        StructField("marketplace", StringType(), nullable=False),
        StructField("sales_channel", StringType(), nullable=False),
        StructField("customer_key", StringType(), nullable=False),
        StructField("buyer_email_masked", StringType()),
        StructField("asin", StringType(), nullable=False),
        StructField("seller_sku", StringType()),
        StructField("quantity", IntegerType(), nullable=False),
        StructField("unit_price", DecimalType(12, 2), nullable=False),
        StructField("item_amount", DecimalType(14, 2), nullable=False),
        StructField("currency", StringType(), nullable=False),
        StructField("channel_status", StringType(), nullable=False),
        StructField("order_status", StringType(), nullable=False),
        StructField("purchased_at", TimestampType(), nullable=False),
        StructField("updated_at", TimestampType(), nullable=False),
    ]
)
DWD_ORDER_ITEM_COLUMNS: tuple[str, ...] = tuple(field.name for field in DWD_ORDER_ITEM.fields)
PARTITION_COLUMN = "ds"
# Sub-partition of each day by ODS source (dwd/order_item/ds=…/source=…): runs of different sources
# replace only their own rows. Like ds, it is a directory, not a column in the Parquet files.
SOURCE_PARTITION_COLUMN = "source"
