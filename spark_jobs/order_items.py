"""ODS orders → DWD ``order_item``: parse, type, dedupe (latest wins), conform, mask PII, map statuses.

Each run rebuilds the purchase-date partitions ``[ds - lookback, ds]`` from the ODS change-days in that
same interval. An order placed on day *d* only ever changes on days >= *d*, so those ODS days hold every
version of every order placed in the interval and each rewritten partition is complete. Orders placed
before the interval are left alone even when they changed inside it: rewriting their partition from a
partial read would lose rows.

The same job conforms every ODS order source (``ods/<source>/order``): the Orders API connector's
``orders`` (the default) and the file-export importers' ``olist`` and ``uci_online_retail``. What differs
per source (status vocabulary, marketplace ids, id prefix) is its profile in :mod:`spark_jobs.channels`.

All sources share one DWD table, ``dwd/order_item/ds=…``, and each source owns a sub-partition of every
day: ``dwd/order_item/ds=YYYY-MM-DD/source=<source>/part-….parquet``. Writes partition by (ds, source)
with dynamic overwrite, and emptied days are removed per source, so a run of one source never touches
another source's rows of the same day. Spark does not store partition columns in the files, so readers
of a day (storage.loader, the GX gate: pyarrow datasets read a partition directory recursively) see every
source's rows with exactly the DWD columns.

Run it from Python with an existing session (``run_order_items``), or as its own application:
``spark-submit spark_jobs/order_items.py --ds 2025-11-01`` /
``python -m spark_jobs.order_items --source olist --ds 2017-03-01 2017-03-02``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # spark-submit runs this file as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import SecretStr
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from ops.settings import Settings
from spark_jobs import pii
from spark_jobs.channels import API_SOURCE, NATIVE_STATUS_FIELD, PROFILES, ChannelProfile, profile_for
from spark_jobs.cli import add_days_argument, run_days
from spark_jobs.currency import (
    REPORTING_FIELDS,
    FxTable,
    MissingFxRateError,
    resolve_pairs,
    warehouse_fx_table,
    with_reporting_amounts,
)
from spark_jobs.entity_spec import EntityCounts, OdsPartitionMissingError, log_counts
from spark_jobs.lake_io import delete_path, list_entries, path_exists
from spark_jobs.marketplaces import UnknownMarketplaceError
from spark_jobs.schemas import (
    CORRUPT_RECORD,
    DWD_ORDER_ITEM,
    ODS_ORDER,
    PARTITION_COLUMN,
    SOURCE_PARTITION_COLUMN,
)
from spark_jobs.session import require_utc
from spark_jobs.statuses import UnknownStatusError
from storage.lake import Lake

log = logging.getLogger(__name__)

SOURCE = API_SOURCE  # the default source: the Orders API connector's ODS
ODS_ENTITY = "order"
ENTITY = "order_item"
STEP = "spark_dwd"
ODS_FILE_GLOB = "*.jsonl.gz"
MAX_EXAMPLES = 5
INT32_MAX = 2**31 - 1
MAX_AMOUNT = Decimal("9999999999.99")  # |unit_price| <= |line amount|, so both fit their decimals

PUBLISHED, SUPERSEDED, OUTSIDE_WINDOW, REJECTED = "published", "superseded", "outside_window", "rejected"


# ---- reading ----------------------------------------------------------------------------------------
def readable_ods_days(
    spark: SparkSession, lake: Lake, ds: date, lookback_days: int, source: str = SOURCE
) -> list[date]:
    """The longest run of consecutive landed ODS days ending at ``ds`` (at most lookback + 1 days).

    A gap means the purchase days before it cannot be rebuilt completely, so the window stops there.
    """
    days: list[date] = []
    for offset in range(lookback_days + 1):
        day = ds - timedelta(days=offset)
        if not path_exists(spark, lake.ods_partition(source, ODS_ENTITY, day)):
            if offset == 0:
                raise OdsPartitionMissingError(
                    f"{source}/{ODS_ENTITY}: ODS partition {lake.ods_partition(source, ODS_ENTITY, ds)} "
                    "has not landed; run the connector (or importer) for this day first"
                )
            log.warning(
                "%s/%s: ODS day %s missing; rebuilding only %s..%s", source, ODS_ENTITY, day, days[-1], ds
            )
            break
        days.append(day)
    return sorted(days)


def read_ods(spark: SparkSession, lake: Lake, days: Sequence[date], source: str = SOURCE) -> DataFrame:
    """Raw orders with the explicit schema (no inference) and the ODS day each line came from."""
    paths = [lake.ods_partition(source, ODS_ENTITY, day) for day in days]
    raw = (
        spark.read.schema(ODS_ORDER)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
        .option("pathGlobFilter", ODS_FILE_GLOB)  # _manifest.json and other metadata are not data
        .json(paths)
    )
    file_day = F.regexp_extract(F.col("_metadata.file_path"), r"/ds=(\d{4}-\d{2}-\d{2})/", 1)
    return raw.withColumn("ods_ds", F.to_date(file_day))


# ---- conforming -------------------------------------------------------------------------------------
def _literal_map(mapping: Mapping[str, str]) -> Column:
    return F.create_map(*[F.lit(x) for pair in sorted(mapping.items()) for x in pair])


def _any_item(predicate: Callable[[Column], Column]) -> Column:
    return F.coalesce(F.exists("OrderItems", predicate), F.lit(False))


def _item_amount(item: Column) -> Column:
    return item["ItemPrice"]["Amount"].try_cast("decimal(14,2)")


def _order_problem() -> Column:
    """Why the latest version of an order cannot be typed into DWD (null when it can).

    Only what cannot be typed or identified is quarantined here. Typed values that break a business
    rule (a negative price, a zero quantity, an unknown currency) are published to the lake as they are
    so the quality gate stops the day and says why, instead of rows silently going missing.
    """
    return (
        F.when(F.col("is_malformed"), "malformed JSON or a field of the wrong type")
        .when(F.col("purchased_at").isNull(), "missing or unparseable PurchaseDate")
        .when(F.col("MarketplaceId").isNull(), "missing MarketplaceId")
        .when(F.col("SalesChannel").isNull(), "missing SalesChannel")
        .when(F.col("OrderStatus").isNull(), "missing OrderStatus")
        .when(F.col("customer_key").isNull(), "missing BuyerInfo.BuyerId")
        .when(F.col("item_rows_raw") < 1, "order has no items")
        .when(
            _any_item(lambda i: i["OrderItemId"].isNull() | i["ASIN"].isNull()),
            "item without OrderItemId/ASIN",
        )
        .when(
            _any_item(
                lambda i: ~F.coalesce(i["QuantityOrdered"].between(-INT32_MAX, INT32_MAX), F.lit(False))
            ),
            "item QuantityOrdered missing or not a 32-bit integer",
        )
        .when(
            _any_item(lambda i: ~F.coalesce(F.abs(_item_amount(i)) <= F.lit(MAX_AMOUNT), F.lit(False))),
            "item ItemPrice.Amount missing, unparseable or too large",
        )
        .when(
            _any_item(lambda i: F.coalesce(F.trim(i["ItemPrice"]["CurrencyCode"]), F.lit("")) == ""),
            "item ItemPrice.CurrencyCode missing",
        )
    )


def pseudonymise(raw: DataFrame, spark: SparkSession, key: SecretStr) -> DataFrame:
    """Swap buyer PII for its keyed hash and mask, and the raw text of bad lines for a flag.

    Done first, before anything is cached, shuffled or spilled, so clear-text PII never leaves the scan.
    The content hash (a dedupe tie-break) is taken here too, while the full record is still at hand.
    """
    buyer_id = F.trim("BuyerInfo.BuyerId")
    keyed = pii.with_pii_key(raw, spark, key)
    return keyed.select(
        *[name for name in raw.columns if name not in ("BuyerInfo", CORRUPT_RECORD)],
        F.col(CORRUPT_RECORD).isNotNull().alias("is_malformed"),
        F.when(buyer_id != "", pii.customer_key_col(buyer_id)).alias("customer_key"),
        pii.mask_email_col(F.col("BuyerInfo.BuyerEmail")).alias("buyer_email_masked"),
        F.xxhash64(
            "PurchaseDate",
            "OrderStatus",
            NATIVE_STATUS_FIELD,
            "MarketplaceId",
            "SalesChannel",
            "BuyerInfo",
            "OrderTotal",
            "OrderItems",
        ).alias("content_hash"),
    )


def classify(records: DataFrame, window_start: date, ds: date) -> DataFrame:
    """Every (pseudonymised) ODS record with its fate: published, superseded, outside_window or rejected.

    The latest version per order wins: LastUpdateDate, then the later ODS day, then a content hash, so
    same-day duplicates resolve the same way whatever order the files list in. Rejected rows get a reason.
    """
    typed = (
        records.withColumn("order_id", F.trim("AmazonOrderId"))
        .withColumn("updated_at", F.col("LastUpdateDate").try_cast("timestamp"))
        .withColumn("purchased_at", F.col("PurchaseDate").try_cast("timestamp"))
        .withColumn("purchase_day", F.to_date("purchased_at"))
        .withColumn("item_rows_raw", F.coalesce(F.size("OrderItems"), F.lit(0)))
        .withColumn("item_rows", F.greatest(F.col("item_rows_raw"), F.lit(1)))
    )
    latest_first = Window.partitionBy("order_id").orderBy(
        F.col("updated_at").desc_nulls_last(), F.col("ods_ds").desc(), F.col("content_hash").desc()
    )
    no_order_id = F.col("order_id").isNull() | (F.col("order_id") == "")
    problem = _order_problem()
    in_window = F.col("purchase_day").between(F.lit(window_start), F.lit(ds))
    fate = (
        F.when(no_order_id | F.col("updated_at").isNull(), REJECTED)
        .when(F.col("version_rank") > 1, SUPERSEDED)
        .when(~F.col("is_malformed") & F.col("purchased_at").isNotNull() & ~in_window, OUTSIDE_WINDOW)
        .when(problem.isNotNull(), REJECTED)
        .otherwise(PUBLISHED)
    )
    reason = (
        F.when(F.col("is_malformed"), "malformed JSON or a field of the wrong type")
        .when(no_order_id, "missing AmazonOrderId")
        .when(F.col("updated_at").isNull(), "missing or unparseable LastUpdateDate")
        .otherwise(problem)
    )
    return (
        typed.withColumn("version_rank", F.row_number().over(latest_first))
        .withColumn("fate", fate)
        .withColumn("reason", F.when(F.col("fate") == REJECTED, reason).otherwise(F.lit(None).cast("string")))
    )


def _mapped(mapping: Mapping[str, str], column: str) -> Column:
    return F.try_element_at(_literal_map(mapping), F.col(column))


def _status_field(profile: ChannelProfile) -> Column:
    """Name of the field a record's channel status is read from (the native one when it has it)."""
    if profile.native_statuses is None:
        return F.lit("OrderStatus")
    return F.when(F.col(NATIVE_STATUS_FIELD).isNotNull(), F.lit(NATIVE_STATUS_FIELD)).otherwise(
        F.lit("OrderStatus")
    )


def _channel_status(profile: ChannelProfile) -> Column:
    if profile.native_statuses is None:
        return F.col("OrderStatus")
    return F.coalesce(F.col(NATIVE_STATUS_FIELD), F.col("OrderStatus"))


def _unified_status(profile: ChannelProfile) -> Column:
    """The record's status in the DWD state machine; null when its vocabulary does not know it."""
    spapi = _mapped(profile.statuses, "OrderStatus")
    if profile.native_statuses is None:
        return spapi
    native = _mapped(profile.native_statuses, NATIVE_STATUS_FIELD)
    return F.when(F.col(NATIVE_STATUS_FIELD).isNotNull(), native).otherwise(spapi)


def _prefixed(prefix: str, column: Column) -> Column:
    return F.concat(F.lit(prefix), column) if prefix else column


def to_dwd(published: DataFrame, profile: ChannelProfile | None = None) -> DataFrame:
    """Published order versions → one typed DWD row per item, in the contract's column order."""
    profile = profile or PROFILES[SOURCE]
    item = F.col("item")
    amount = _item_amount(item)
    quantity = item["QuantityOrdered"].cast("int")
    columns = {
        "order_item_id": _prefixed(profile.id_prefix, item["OrderItemId"]),
        "order_id": _prefixed(profile.id_prefix, F.col("order_id")),
        "marketplace_id": F.col("MarketplaceId"),
        "marketplace": _mapped(profile.marketplaces, "MarketplaceId"),
        "sales_channel": F.col("SalesChannel"),
        "customer_key": F.col("customer_key"),
        "buyer_email_masked": F.col("buyer_email_masked"),
        "asin": item["ASIN"],
        "seller_sku": item["SellerSKU"],
        "quantity": quantity,
        # A zero quantity leaves the unit price null; the quality gate's quantity check stops that day.
        "unit_price": F.round(F.try_divide(amount, quantity), 2).cast("decimal(12,2)"),
        "item_amount": amount,
        "currency": item["ItemPrice"]["CurrencyCode"],
        "channel_status": _channel_status(profile),
        "order_status": _unified_status(profile),
        "purchased_at": F.col("purchased_at"),
        "updated_at": F.col("updated_at"),
        PARTITION_COLUMN: F.col("purchase_day"),
    }
    exploded = published.select("*", F.explode("OrderItems").alias("item"))
    dwd = exploded.select(*[expr.alias(name) for name, expr in columns.items()])
    produced = [(f.name, f.dataType) for f in dwd.schema.fields if f.name != PARTITION_COLUMN]
    expected = [(f.name, f.dataType) for f in DWD_ORDER_ITEM.fields]
    if produced != expected:  # checked on the plan's schema: costs no Spark job
        raise AssertionError(f"DWD order_item drifted from spark_jobs.schemas: {produced} != {expected}")
    return dwd


# ---- checks that stop the run -----------------------------------------------------------------------
def _raise_unmapped(classified: DataFrame, lake: Lake, profile: ChannelProfile) -> None:
    """Unknown statuses / marketplaces are errors naming source, ODS partition and order, never nulls."""
    published = classified.filter(F.col("fate") == PUBLISHED)
    status = (
        _status_field(profile),
        _channel_status(profile),
        _unified_status(profile),
        UnknownStatusError,
        f"the {profile.channel} map in spark_jobs/statuses.py",
    )
    marketplace = (
        F.lit("MarketplaceId"),
        F.col("MarketplaceId"),
        _mapped(profile.marketplaces, "MarketplaceId"),
        UnknownMarketplaceError,
        f"the {profile.source} map in spark_jobs/marketplaces.py",
    )
    checks = (status, marketplace)
    for field_name, value, mapped, error, where in checks:
        bad = (
            published.filter(mapped.isNull())
            .select("ods_ds", "order_id", field_name.alias("field"), value.alias("value"))
            .orderBy("ods_ds", "order_id")
            .limit(MAX_EXAMPLES)
            .collect()
        )
        if bad:
            examples = "; ".join(
                f"{row.field}={row.value!r} (AmazonOrderId {row.order_id}) in ODS partition "
                + lake.ods_partition(profile.source, ODS_ENTITY, row.ods_ds)
                for row in bad
            )
            raise error(
                f"{profile.source}/{ODS_ENTITY} ({profile.channel}): unmapped {bad[0].field}: {examples}; "
                f"add it to {where}"
            )


def _summarise(classified: DataFrame, profile: ChannelProfile) -> list[Any]:
    """One pass over the classified records: item rows by fate, reason, partition and mapping misses."""
    published = F.col("fate") == PUBLISHED
    return (
        classified.groupBy(
            "fate",
            "reason",
            F.when(published, F.col("purchase_day")).alias("day"),
            (published & _unified_status(profile).isNull()).alias("unmapped_status"),
            (published & _mapped(profile.marketplaces, "MarketplaceId").isNull()).alias(
                "unmapped_marketplace"
            ),
        )
        .agg(
            F.count("*").alias("records"),
            F.sum("item_rows").alias("rows"),
            F.array_distinct(F.flatten(F.collect_set(F.when(published, _item_currencies())))).alias(
                "currencies"
            ),
        )
        .collect()
    )


def _item_currencies() -> Column:
    return F.transform("OrderItems", lambda i: i["ItemPrice"]["CurrencyCode"])


def _published_pairs(summary: list[Any]) -> set[tuple[str, date]]:
    """(currency, purchase day) of every published item: what the rate table must cover."""
    return {(currency, row.day) for row in summary if row.fate == PUBLISHED for currency in row.currencies}


def _raise_missing_rates(
    classified: DataFrame,
    missing: list[tuple[str, date]],
    lake: Lake,
    profile: ChannelProfile,
    settings: Settings,
) -> None:
    """A published item without a rate stops the run (nothing written), naming source, partition and order."""
    spark = classified.sparkSession
    pairs = spark.createDataFrame([(c, d) for c, d in missing], "fx_currency string, fx_day date")
    items = classified.filter(F.col("fate") == PUBLISHED).select(
        "ods_ds", "order_id", "purchase_day", F.explode(_item_currencies()).alias("item_currency")
    )
    bad = (
        items.join(
            pairs,
            (F.col("item_currency") == F.col("fx_currency")) & (F.col("purchase_day") == F.col("fx_day")),
            "left_semi",
        )
        .distinct()
        .orderBy("ods_ds", "order_id", "item_currency")
        .limit(MAX_EXAMPLES)
        .collect()
    )
    examples = "; ".join(
        f"{row.item_currency!r} on {row.purchase_day} (AmazonOrderId {row.order_id}) in ODS partition "
        + lake.ods_partition(profile.source, ODS_ENTITY, row.ods_ds)
        for row in bad
    )
    spans = Counter(currency for currency, _ in missing)
    raise MissingFxRateError(
        f"{profile.source}/{ODS_ENTITY}: no rate to {settings.reporting_currency} dated at most "
        f"{settings.fx_max_rate_age_days} days before the purchase date for {dict(sorted(spans.items()))} "
        f"(currency: days), first {missing[0][1]}, last {missing[-1][1]}: {examples}; "
        "add the rates to dwd.fx_rate (a rate feed, or storage/reference/fx_rates.csv) and rerun"
    )


def _check_contract(dwd: DataFrame) -> None:
    """The written columns are the DWD contract plus the reporting columns (plan schema: no Spark job)."""
    produced = [(f.name, f.dataType) for f in dwd.schema.fields if f.name != PARTITION_COLUMN]
    expected = [(f.name, f.dataType) for f in (*DWD_ORDER_ITEM.fields, *REPORTING_FIELDS)]
    if produced != expected:
        raise AssertionError(f"DWD order_item drifted from its contract: {produced} != {expected}")


def _tally(summary: list[Any]) -> tuple[Counter[str], Counter[str], dict[date, int]]:
    """Item rows by fate, rejected rows by reason, published rows by partition."""
    by_fate: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    partitions: Counter[date] = Counter()
    for row in summary:
        by_fate[row.fate] += row.rows
        if row.fate == REJECTED:
            reasons[row.reason] += row.rows
        elif row.fate == PUBLISHED:
            partitions[row.day] += row.rows
    return by_fate, reasons, dict(sorted(partitions.items()))


def _write_quarantine(
    spark: SparkSession, classified: DataFrame, lake: Lake, ds: date, rejected: int, source: str = SOURCE
) -> None:
    """Rejected records (pointers + reason, no PII: the raw record stays in ODS) for this run's day."""
    target = lake.ods_quarantine(source, ENTITY, ds)
    if rejected == 0:
        delete_path(spark, target)  # a rerun after a fix must not leave the old rejects behind
        return
    (
        classified.filter(F.col("fate") == REJECTED)
        .select(
            F.date_format("ods_ds", "yyyy-MM-dd").alias("ods_ds"),
            "order_id",
            F.col("LastUpdateDate").alias("last_update_date"),
            "reason",
            F.col("item_rows").alias("rows"),
            F.lit(ds.isoformat()).alias("run_ds"),
        )
        .orderBy("ods_ds", "order_id", "last_update_date")
        .coalesce(1)
        .write.mode("overwrite")
        .option("ignoreNullFields", "false")  # a missing order id is still a key in the record
        .json(target, compression="gzip")
    )
    log.warning("%s/%s ds=%s: %d rows quarantined to %s", source, ENTITY, ds, rejected, target)


def source_partition(lake: Lake, source: str, day: date) -> str:
    """The directory holding one source's rows of one DWD day."""
    return f"{lake.dwd_partition(ENTITY, day)}/{SOURCE_PARTITION_COLUMN}={source}"


def _is_data_file(name: str) -> bool:
    return not name.startswith(("_", "."))


def _remove_legacy_files(spark: SparkSession, lake: Lake, day: date) -> bool:
    """Drop Parquet files lying directly in ``ds=…`` (the layout before per-source sub-partitions).

    Only the API source ever wrote that layout, so its runs clean it up once their own sub-partition of
    the day is in place; otherwise the old rows would be read twice.
    """
    removed = False
    for name, is_dir in list_entries(spark, lake.dwd_partition(ENTITY, day)):
        if not is_dir and _is_data_file(name):
            removed = delete_path(spark, f"{lake.dwd_partition(ENTITY, day)}/{name}") or removed
    if removed:
        log.warning("%s: removed pre-source-layout files of partition %s", ENTITY, day)
    return removed


def _remove_day_if_empty(spark: SparkSession, lake: Lake, day: date) -> None:
    """A day with no source left holding rows must not exist: readers would see an empty partition."""
    uri = lake.dwd_partition(ENTITY, day)
    if path_exists(spark, uri) and not any(_is_data_file(name) for name, _ in list_entries(spark, uri)):
        delete_path(spark, uri)


def _remove_emptied_partitions(
    spark: SparkSession, lake: Lake, window_start: date, ds: date, written: set[date], source: str = SOURCE
) -> list[date]:
    """Window days are rebuilt whole for this source; one left with no rows must not keep its old rows.

    Dynamic overwrite only replaces the (day, source) partitions a write produces, so this is done
    explicitly, and only ever on this source's sub-partition: other sources' rows of the day stay.
    """
    emptied = []
    for offset in range((ds - window_start).days + 1):
        day = window_start + timedelta(days=offset)
        legacy = source == API_SOURCE and _remove_legacy_files(spark, lake, day)
        if day in written:
            continue
        if delete_path(spark, source_partition(lake, source, day)) or legacy:
            log.warning("%s: %s has no %s rows after this run; removed them", ENTITY, day, source)
            emptied.append(day)
        _remove_day_if_empty(spark, lake, day)
    return emptied


# ---- the job ----------------------------------------------------------------------------------------
def run_order_items(
    spark: SparkSession, settings: Settings, ds: date, source: str = SOURCE, fx: FxTable | None = None
) -> EntityCounts:
    """Rebuild DWD order_item partitions [ds - lookback, ds] of one ODS source; returns and logs counts.

    Only ``source``'s sub-partition of each day is replaced; the other sources' rows stay as they are.
    Amounts are also converted to ``settings.reporting_currency`` with ``fx`` (default: ``dwd.fx_rate``).
    """
    profile = profile_for(source)
    started = time.monotonic()
    require_utc(spark)
    fx = fx or warehouse_fx_table(settings)
    lake = Lake(settings.lake_uri)
    ods_days = readable_ods_days(spark, lake, ds, settings.dwd_lookback_days, source)
    window_start = ods_days[0]
    records = pseudonymise(read_ods(spark, lake, ods_days, source), spark, settings.pii_hash_key)
    classified = classify(records, window_start, ds).persist()
    try:
        summary = _summarise(classified, profile)
        if any(row.unmapped_status or row.unmapped_marketplace for row in summary):
            _raise_unmapped(classified, lake, profile)
        rates, missing = resolve_pairs(fx, settings.reporting_currency, _published_pairs(summary))
        if missing:
            _raise_missing_rates(classified, missing, lake, profile, settings)
        rows_by_fate, reasons, partitions = _tally(summary)
        rejected = rows_by_fate.get(REJECTED, 0)
        _write_quarantine(spark, classified, lake, ds, rejected, source)
        dwd = with_reporting_amounts(
            spark,
            to_dwd(classified.filter(F.col("fate") == PUBLISHED), profile),
            rates,
            settings.reporting_currency,
        )
        _check_contract(dwd)
        (
            dwd.withColumn(SOURCE_PARTITION_COLUMN, F.lit(source))
            .repartition(PARTITION_COLUMN)  # all rows of a day in one task → one file per partition
            .sortWithinPartitions(PARTITION_COLUMN, "order_id", "order_item_id")
            .write.mode("overwrite")
            # Replace only the (day, source) partitions this run produced: other sources' rows stay.
            .option("partitionOverwriteMode", "dynamic")
            .partitionBy(PARTITION_COLUMN, SOURCE_PARTITION_COLUMN)
            .parquet(lake.dwd_table(ENTITY))
        )
        emptied = _remove_emptied_partitions(spark, lake, window_start, ds, set(partitions), source)
        counts = EntityCounts(
            entity=ENTITY,
            ds=ds,
            source=source,
            ods_entity=ODS_ENTITY,
            ods_partitions=tuple(ods_days),
            ods_records=sum(row.records for row in summary),
            rows_in=sum(rows_by_fate.values()),
            rows_out=sum(partitions.values()),
            rows_rejected=rejected,
            duplicates_dropped=rows_by_fate.get(SUPERSEDED, 0),
            outside_window=rows_by_fate.get(OUTSIDE_WINDOW, 0),
            partitions=partitions,
            rejected_reasons=dict(reasons),
            emptied=tuple(emptied),
            seconds=time.monotonic() - started,
            extra={"reporting_currency": settings.reporting_currency},
        )
    finally:
        classified.unpersist()
    log_counts(settings, STEP, counts)
    log.info(
        "%s/%s ds=%s: %d ODS records (%d item rows) from %d days → %d rows in %d partitions; "
        "%d duplicates dropped, %d outside window, %d rejected; %.1f s (%.0f rows/s)",
        source,
        ENTITY,
        ds,
        counts.ods_records,
        counts.rows_in,
        len(ods_days),
        counts.rows_out,
        len(counts.partitions),
        counts.duplicates_dropped,
        counts.outside_window,
        counts.rows_rejected,
        counts.seconds,
        counts.rows_in / counts.seconds if counts.seconds else 0.0,
    )
    for day, rows in counts.partitions.items():
        log.info("%s/%s ds=%s: partition %s ← %d rows", source, ENTITY, ds, day, rows)
    return counts


# ---- command line -----------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m spark_jobs.order_items [--source S] --ds D [D ...]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        choices=sorted(PROFILES),
        default=SOURCE,
        help=f"ODS order source to conform (default: {SOURCE}, the Orders API connector)",
    )
    add_days_argument(parser)
    args = parser.parse_args(argv)
    return run_days(
        f"mercator-dwd-{ENTITY}-{args.source}",
        args.ds,
        lambda spark, settings, ds: run_order_items(spark, settings, ds, args.source),
    )


if __name__ == "__main__":
    raise SystemExit(main())
