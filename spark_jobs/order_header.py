"""DWD ``order_item`` → DWD ``orders``: one header row per order, with its totals, in the same layout.

Why from DWD order items and not from ODS: the item job already holds every rule that decides what an
order *is* (latest ``LastUpdateDate`` wins, rejected and superseded versions, the unified status state
machine, keyed-hash customer, masked e-mail, source id prefixes, reporting-currency conversion). Parsing
ODS a second time would be a second copy of those rules that could drift; aggregating the published items
makes ``orders`` agree with ``order_item`` by construction (one source of truth): an order has a header
iff it has items, and its units and amounts are exactly the sum of its items.

The table is named ``orders`` (lake ``dwd/orders/``, Postgres ``dwd.orders``): ``order`` is an SQL
reserved word that would need quoting in every query, and a plural table name is the usual way around it.

Layout and rebuild follow the item job: ``dwd/orders/ds=<purchase day>/source=<source>/`` (one sorted file
per partition, dynamic overwrite of only this source's sub-partitions), so a run of one source never
touches another's headers of the same day. A run rebuilds the days ``[start, end]`` from the item
sub-partitions of those days: each item partition is complete for its day, so any window can be rebuilt
at any time, and a window day whose items are gone loses its headers too. The item job's window is the
one to pass (``ops.pipeline.build_dwd`` does, right after the items).

Run it from Python (``run_order_headers``) or as its own application:
``python -m spark_jobs.order_header [--source olist] --ds 2025-11-01`` (rebuilds the look-back window).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # spark-submit runs this file as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DecimalType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from ops.settings import Settings
from spark_jobs.channels import API_SOURCE, PROFILES
from spark_jobs.cli import add_days_argument, run_days
from spark_jobs.currency import FX_RATE_TYPE, REPORTING_FIELDS
from spark_jobs.entity_spec import log_counts
from spark_jobs.lake_io import delete_path, list_entries, path_exists
from spark_jobs.schemas import DWD_ORDER_ITEM, PARTITION_COLUMN, SOURCE_PARTITION_COLUMN
from storage.lake import Lake

log = logging.getLogger(__name__)

ENTITY = "orders"
ITEM_ENTITY = "order_item"
STEP = "spark_dwd"
SOURCE = API_SOURCE
CANCELLED = "cancelled"
MAX_EXAMPLES = 5
AMOUNT_TYPE = DecimalType(18, 2)  # a sum of decimal(14,2) item amounts
REPORTING_TOTAL_TYPE = DecimalType(20, 2)  # a sum of decimal(18,2) reporting amounts

# Every item of an order carries the same order-level values (they come from one published ODS version).
ORDER_LEVEL = (
    "order_id",
    "marketplace_id",
    "marketplace",
    "sales_channel",
    "customer_key",
    "buyer_email_masked",
    "order_status",
    "channel_status",
    "purchased_at",
    "updated_at",
    "currency",
    "reporting_currency",
    "fx_rate",
)

# The DWD contract (the Parquet columns; ``ds`` and ``source`` are the partition directories).
DWD_ORDERS = StructType(
    [
        StructField("order_id", StringType(), nullable=False),
        StructField("marketplace_id", StringType(), nullable=False),
        StructField("marketplace", StringType(), nullable=False),
        StructField("sales_channel", StringType(), nullable=False),
        StructField("customer_key", StringType(), nullable=False),
        StructField("buyer_email_masked", StringType()),
        StructField("order_status", StringType(), nullable=False),
        StructField("channel_status", StringType(), nullable=False),
        StructField("is_cancelled", BooleanType(), nullable=False),
        StructField("purchased_at", DWD_ORDER_ITEM["purchased_at"].dataType, nullable=False),
        StructField("updated_at", DWD_ORDER_ITEM["updated_at"].dataType, nullable=False),
        StructField("item_count", IntegerType(), nullable=False),
        StructField("units", IntegerType(), nullable=False),
        StructField("order_amount", AMOUNT_TYPE, nullable=False),
        StructField("currency", StringType(), nullable=False),
        StructField("reporting_currency", StringType()),
        StructField("fx_rate", FX_RATE_TYPE),
        StructField("order_amount_reporting", REPORTING_TOTAL_TYPE),
    ]
)


class InconsistentOrderError(ValueError):
    """Items of one order disagree on an order-level value (e.g. two currencies): no single header."""


@dataclass(frozen=True)
class HeaderCounts:
    """What one run read (item rows) and wrote (headers); ``rows_in == sum of written item_count``."""

    source: str
    window_start: date
    ds: date
    rows_in: int
    partitions: dict[date, int] = field(default_factory=dict)  # headers written per day
    entity: str = ENTITY
    rows_rejected: int = 0  # headers aggregate published items: nothing to reject
    item_rows: dict[date, int] = field(default_factory=dict)  # item rows read per day
    emptied: tuple[date, ...] = ()
    seconds: float = 0.0

    @property
    def rows_out(self) -> int:
        return sum(self.partitions.values())

    @property
    def reconciles(self) -> bool:
        return self.rows_in == sum(self.item_rows.values())

    def details(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "window_start": self.window_start.isoformat(),
            "from": f"dwd/{ITEM_ENTITY}",
            "item_rows": {d.isoformat(): n for d, n in sorted(self.item_rows.items())},
            "partitions": {d.isoformat(): n for d, n in sorted(self.partitions.items())},
            "emptied": [d.isoformat() for d in self.emptied],
            "reconciles": self.reconciles,
            "seconds": round(self.seconds, 3),
        }


# ---- paths ------------------------------------------------------------------------------------------
def source_partition(lake: Lake, entity: str, source: str, day: date) -> str:
    """One source's sub-partition of one DWD day (``dwd/<entity>/ds=…/source=…``)."""
    return f"{lake.dwd_partition(entity, day)}/{SOURCE_PARTITION_COLUMN}={source}"


def _window(start: date, end: date) -> list[date]:
    if end < start:
        raise ValueError(f"window end {end} is before start {start}")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# ---- reading and aggregating ------------------------------------------------------------------------
def read_items(spark: SparkSession, lake: Lake, days: Sequence[date], source: str) -> DataFrame | None:
    """The source's DWD item rows of ``days`` (explicit schema) with ``ds``; None when there are none."""
    paths = [source_partition(lake, ITEM_ENTITY, source, d) for d in days]
    present = [p for p in paths if path_exists(spark, p)]
    if not present:
        return None
    schema = StructType([*DWD_ORDER_ITEM.fields, *REPORTING_FIELDS])
    day = F.regexp_extract(F.col("_metadata.file_path"), r"/ds=(\d{4}-\d{2}-\d{2})/", 1)
    return spark.read.schema(schema).parquet(*present).withColumn(PARTITION_COLUMN, F.to_date(day))


def _sum_as(column: str, data_type: DecimalType | IntegerType) -> Column:
    return F.sum(column).cast(data_type)


def to_headers(items: DataFrame) -> DataFrame:
    """Item rows → one row per (day, order-level values) with the order's totals, in contract order.

    Totals are sums of the items, so they agree with ``order_item`` to the cent; the reporting amount is
    the sum of the items' converted amounts (not the converted total), for the same reason.
    """
    grouped = items.groupBy(PARTITION_COLUMN, *ORDER_LEVEL).agg(
        F.count(F.lit(1)).cast(IntegerType()).alias("item_count"),
        _sum_as("quantity", IntegerType()).alias("units"),
        _sum_as("item_amount", AMOUNT_TYPE).alias("order_amount"),
        _sum_as("item_amount_reporting", REPORTING_TOTAL_TYPE).alias("order_amount_reporting"),
    )
    computed = {"is_cancelled": F.coalesce(F.col("order_status") == CANCELLED, F.lit(False))}
    columns = [computed.get(f.name, F.col(f.name)).alias(f.name) for f in DWD_ORDERS.fields]
    headers = grouped.select(*columns, PARTITION_COLUMN)
    produced = [(f.name, f.dataType) for f in headers.schema.fields if f.name != PARTITION_COLUMN]
    expected = [(f.name, f.dataType) for f in DWD_ORDERS.fields]
    if produced != expected:  # the plan's schema: costs no Spark job
        raise AssertionError(f"DWD {ENTITY} drifted from its contract: {produced} != {expected}")
    return headers


def _raise_inconsistent(items: DataFrame, headers: DataFrame, source: str) -> None:
    """Name the orders whose items disagree and the order-level columns they disagree on."""
    split = headers.groupBy(PARTITION_COLUMN, "order_id").count().filter(F.col("count") > 1)
    bad = split.orderBy(PARTITION_COLUMN, "order_id").limit(MAX_EXAMPLES).collect()
    ids = [row.order_id for row in bad]
    checked = [c for c in ORDER_LEVEL if c != "order_id"]
    as_text = [F.coalesce(F.col(c).cast("string"), F.lit("<null>")) for c in checked]
    distinct = (
        items.filter(F.col("order_id").isin(ids))
        .groupBy("order_id")
        .agg(*[F.count_distinct(v).alias(c) for v, c in zip(as_text, checked, strict=True)])
    )
    examples = "; ".join(
        f"{row.order_id} ({', '.join(c for c in checked if row[c] > 1)})"
        for row in distinct.orderBy("order_id").collect()
    )
    raise InconsistentOrderError(
        f"{source}/{ENTITY}: items of one order disagree on order-level columns, so the order has no single "
        f"header: {examples}; fix dwd/{ITEM_ENTITY} (spark_jobs/order_items.py) and rerun"
    )


def _summarise(headers: DataFrame) -> list[Any]:
    """Per day: headers, distinct orders and item rows (one Spark job over the small header rows)."""
    return (
        headers.groupBy(PARTITION_COLUMN)
        .agg(
            F.count(F.lit(1)).alias("headers"),
            F.count_distinct("order_id").alias("orders"),
            F.sum("item_count").alias("items"),
        )
        .collect()
    )


# ---- writing ----------------------------------------------------------------------------------------
def _write(headers: DataFrame, lake: Lake, source: str) -> None:
    """Replace only this source's (day, source) partitions produced: one file per day, sorted by order."""
    (
        headers.withColumn(SOURCE_PARTITION_COLUMN, F.lit(source))
        .repartition(PARTITION_COLUMN)  # all rows of a day in one task → one file per partition
        .sortWithinPartitions(PARTITION_COLUMN, "order_id")
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(PARTITION_COLUMN, SOURCE_PARTITION_COLUMN)
        .parquet(lake.dwd_table(ENTITY))
    )


def _is_data_entry(name: str) -> bool:
    return not name.startswith(("_", "."))


def _remove_emptied(
    spark: SparkSession, lake: Lake, window: Sequence[date], written: set[date], source: str
) -> list[date]:
    """Window days without headers of this source lose their old ones; a day left empty is removed."""
    emptied = []
    for day in window:
        if day in written:
            continue
        if delete_path(spark, source_partition(lake, ENTITY, source, day)):
            log.warning("%s: %s has no %s orders after this run; removed them", ENTITY, day, source)
            emptied.append(day)
        uri = lake.dwd_partition(ENTITY, day)
        if path_exists(spark, uri) and not any(_is_data_entry(n) for n, _ in list_entries(spark, uri)):
            delete_path(spark, uri)
    return emptied


# ---- the job ----------------------------------------------------------------------------------------
def run_order_headers(
    spark: SparkSession, settings: Settings, start: date, end: date, source: str = SOURCE
) -> HeaderCounts:
    """Rebuild ``source``'s DWD ``orders`` sub-partitions of days [start, end] from its DWD order items."""
    started = time.monotonic()
    lake = Lake(settings.lake_uri)
    window = _window(start, end)
    items = read_items(spark, lake, window, source)
    partitions: dict[date, int] = {}
    item_rows: dict[date, int] = {}
    if items is not None:
        headers = to_headers(items).persist()
        try:
            summary = _summarise(headers)
            if any(row["headers"] != row["orders"] for row in summary):
                _raise_inconsistent(items, headers, source)
            partitions = {row[PARTITION_COLUMN]: row["headers"] for row in summary}
            item_rows = {row[PARTITION_COLUMN]: int(row["items"]) for row in summary}
            if partitions:
                _write(headers, lake, source)
        finally:
            headers.unpersist()
    emptied = _remove_emptied(spark, lake, window, set(partitions), source)
    counts = HeaderCounts(
        source=source,
        window_start=start,
        ds=end,
        rows_in=sum(item_rows.values()),
        partitions=partitions,
        item_rows=item_rows,
        emptied=tuple(emptied),
        seconds=time.monotonic() - started,
    )
    log_counts(settings, STEP, counts)
    log.info(
        "%s/%s %s..%s: %d item rows → %d orders in %d partitions (%d emptied); %.1f s",
        source,
        ENTITY,
        start,
        end,
        counts.rows_in,
        counts.rows_out,
        len(partitions),
        len(emptied),
        counts.seconds,
    )
    return counts


# ---- command line -----------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m spark_jobs.order_header [--source S] --ds D [D ...]``: each day's look-back window."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=sorted(PROFILES), default=SOURCE, help="DWD item source")
    add_days_argument(parser)
    args = parser.parse_args(argv)
    return run_days(
        f"mercator-dwd-{ENTITY}-{args.source}",
        args.ds,
        lambda spark, settings, ds: run_order_headers(
            spark, settings, ds - timedelta(days=settings.dwd_lookback_days), ds, args.source
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
