"""ODS catalog listings → DWD ``catalog_item`` as a slowly changing dimension (type 2).

Every version of a listing (``asin``, ``marketplace_id``) is one row with ``valid_from`` (its
``lastUpdatedDate``), ``valid_to`` (the next version's ``valid_from``; null while current) and
``is_current``. Validity is half-open and contiguous, so "the listing as of instant t" is the one row
with ``valid_from <= t < coalesce(valid_to, infinity)`` (see storage/sql/dwd_catalog_item.sql).

Partitioning: ``ds`` = UTC day of ``valid_from``. A listing lands in the ODS day it changed, as of its
latest change that day, so the versions of partition *D* are exactly the deduplicated ODS day *D*
(typed, checked and quarantined by :mod:`spark_jobs.entity_job`; a record of another day is rejected).
Only ``valid_to``/``is_current`` depend on other days: a new version closes its predecessor, which can
sit in any earlier partition. So a run of *D*:

1. reads the table's current versions (every partition) and replaces those of *D* with ODS day *D*'s;
2. recomputes ``valid_to`` = next ``valid_from`` per listing over all versions;
3. rewrites partition *D* and every partition where a ``valid_to`` changed (the predecessors that were
   closed or, after an ODS correction, reopened), each completely, by dynamic partition overwrite.

The result is a function of the set of ODS days processed, not of their order: a late day *D-3* run
after *D* inserts its versions between the existing ones (closing its predecessor, and itself closed
by *D*'s version), and a rerun of *D* recomputes the same values and rewrites the same partitions
byte-identically. The rows to write are materialised (local checkpoint) before any partition is replaced,
because the job reads the table it overwrites. The first version the lake sees of a listing is its first
change after ingestion started; earlier history is unknown (no snapshot bootstrap).

The landed ``unit_cost`` (currency ``unit_cost_currency``), ``fulfillment_channel`` (fba, fbm,
drop_ship) and ``is_sample`` are part of the versioned listing, so a mart can cost a sale with the
version in force on its purchase day.

Loading: the run returns every partition it rewrote; ``storage.loader.load_dwd_partitions`` mirrors each
one in its own transaction (ops.pipeline passes them all).
``python -m spark_jobs.catalog_item --ds 2025-11-05`` or ``run_entity(spark, settings, SPEC, ds)``.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DateType, StructField, StructType, TimestampType

from spark_jobs.entity_job import main_for
from spark_jobs.entity_spec import (
    BOOLEAN,
    CURRENCY,
    DATE,
    INTEGER,
    TIMESTAMP,
    Check,
    EntitySpec,
    Field,
)
from spark_jobs.lake_io import delete_path, list_entries
from spark_jobs.schemas import PARTITION_COLUMN
from storage.lake import Lake

LISTING = ("asin", "marketplace_id")
FULFILLMENT_CHANNELS = ("fba", "fbm", "drop_ship")  # served FBA / FBM / DROP_SHIP, lower-cased like enums
VALID_FROM, VALID_TO, IS_CURRENT = "valid_from", "valid_to", "is_current"


def _versions(spark: SparkSession, lake: Lake, schema: StructType) -> DataFrame:
    """Every version in the table (``valid_to``/``is_current`` included); empty when there is none."""
    full = StructType(
        [
            *schema.fields,
            StructField(VALID_TO, TimestampType()),
            StructField(IS_CURRENT, BooleanType()),
        ]
    )
    table = lake.dwd_table("catalog_item")
    if not any(name.startswith(f"{PARTITION_COLUMN}=") for name, _ in list_entries(spark, table)):
        return spark.createDataFrame([], full)
    return spark.read.schema(full).parquet(table).select(*full.fieldNames())


def _with_validity(versions: DataFrame) -> DataFrame:
    """``valid_to`` = the listing's next ``valid_from``; the last version is current."""
    following = Window.partitionBy(*LISTING).orderBy(VALID_FROM)
    return versions.withColumn(VALID_TO, F.lead(VALID_FROM).over(following)).withColumn(
        IS_CURRENT, F.col(VALID_TO).isNull()
    )


def publish_scd2(
    spark: SparkSession, lake: Lake, spec: EntitySpec, day_versions: DataFrame, ds: date
) -> dict[date, int]:
    """Replace partition ``ds``'s versions, re-derive validity, rewrite every partition that changed."""
    schema = StructType(
        [
            *[f for f in day_versions.schema.fields if f.name != PARTITION_COLUMN],
            StructField(PARTITION_COLUMN, DateType()),
        ]
    )
    stored = _versions(spark, lake, schema)
    kept = stored.filter(F.col(PARTITION_COLUMN) != F.lit(ds)).select(*schema.fieldNames())
    recomputed = _with_validity(kept.unionByName(day_versions.select(*schema.fieldNames())))
    before = stored.select(*LISTING, VALID_FROM, F.col(VALID_TO).alias("_old_valid_to"))
    changed = (
        recomputed.join(before, [*LISTING, VALID_FROM], "left")
        .filter((F.col(PARTITION_COLUMN) == F.lit(ds)) | ~F.col(VALID_TO).eqNullSafe(F.col("_old_valid_to")))
        .select(PARTITION_COLUMN)
        .distinct()
    )
    affected = sorted({row[0] for row in changed.collect()} | {ds})
    # Materialised before writing: the write below replaces files this plan reads.
    rows = recomputed.filter(F.col(PARTITION_COLUMN).isin(affected)).localCheckpoint(eager=True)
    counts = {row[0]: row[1] for row in rows.groupBy(PARTITION_COLUMN).count().collect()}
    if counts:
        (
            rows.repartition(1)
            .sortWithinPartitions(PARTITION_COLUMN, *LISTING)
            .write.mode("overwrite")
            .option("partitionOverwriteMode", "dynamic")
            .partitionBy(PARTITION_COLUMN)
            .parquet(lake.dwd_table(spec.entity))
        )
    for day in affected:
        if day not in counts:
            delete_path(spark, lake.dwd_partition(spec.entity, day))
    return {day: counts.get(day, 0) for day in affected}


SPEC = EntitySpec(
    entity="catalog_item",
    source="catalog",
    fields=(
        Field("asin"),
        Field("marketplaceId", column="marketplace_id"),
        Field("version", INTEGER, required=False),
        Field("lastUpdatedDate", TIMESTAMP, column=VALID_FROM),
        Field("itemName", path="summaries.itemName", column="item_name"),
        Field("brand", required=False, path="summaries.brand"),
        Field(
            "classificationId",
            required=False,
            path="summaries.browseClassification.classificationId",
            column="classification_id",
        ),
        Field(
            "displayName",
            required=False,
            path="summaries.browseClassification.displayName",
            column="category",
        ),
        Field("categoryPath", required=False, path="summaries.categoryPath", column="category_path"),
        Field("releaseDate", DATE, required=False, path="summaries.releaseDate", column="release_date"),
        Field("listPrice", "decimal(12,2)", required=False, path="listPrice.amount", column="list_price"),
        Field("currencyCode", CURRENCY, required=False, path="listPrice.currencyCode", column="currency"),
        Field("unitCost", "decimal(12,2)", required=False, path="unitCost.amount", column="unit_cost"),
        Field(
            "unitCostCurrency",
            CURRENCY,
            required=False,
            path="unitCost.currencyCode",
            column="unit_cost_currency",
        ),
        Field(
            "fulfillmentChannel",
            required=False,
            column="fulfillment_channel",
            enum=FULFILLMENT_CHANNELS,
        ),
        Field("isSample", BOOLEAN, required=False, column="is_sample"),
        Field("imageCount", INTEGER, required=False, path="listingQuality.imageCount", column="image_count"),
        Field(
            "bulletPointCount",
            INTEGER,
            required=False,
            path="listingQuality.bulletPointCount",
            column="bullet_point_count",
        ),
        Field(
            "hasAPlusContent",
            BOOLEAN,
            required=False,
            path="listingQuality.hasAPlusContent",
            column="has_aplus_content",
        ),
        Field(
            "titleLength", INTEGER, required=False, path="listingQuality.titleLength", column="title_length"
        ),
    ),
    checks=(
        Check(
            "list price without currency",
            lambda: F.col("_t_list_price").isNull() | F.col("_t_currency").isNotNull(),
        ),
        Check(
            "list price is negative", lambda: F.col("_t_list_price").isNull() | (F.col("_t_list_price") >= 0)
        ),
        Check(
            "unit cost without currency",
            lambda: F.col("_t_unit_cost").isNull() | F.col("_t_unit_cost_currency").isNotNull(),
        ),
        Check("unit cost is negative", lambda: F.col("_t_unit_cost").isNull() | (F.col("_t_unit_cost") >= 0)),
    ),
    key=LISTING,
    partition_by=VALID_FROM,
    version_by=VALID_FROM,
    publish=publish_scd2,
)


if __name__ == "__main__":
    raise SystemExit(main_for(SPEC))
