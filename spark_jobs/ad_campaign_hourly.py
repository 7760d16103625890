"""ODS ads → DWD ``ad_campaign_hourly``: one row per (campaign, UTC hour); ``ds`` is the hour's UTC date.

Money stays decimal (``numeric(14,2)``, in the campaign's own currency); an hour that is not the start of
an hour is rejected rather than silently truncated. ``asin`` (the advertised product, ads schema v2) is
optional: ODS days landed before it read it as null.
``python -m spark_jobs.ad_campaign_hourly --ds 2025-11-05`` or
``run_entity(spark, settings, SPEC, ds)``.
"""

from __future__ import annotations

from pyspark.sql import functions as F

from spark_jobs.entity_job import main_for
from spark_jobs.entity_spec import BIGINT, CURRENCY, TIMESTAMP, Check, EntitySpec, Field

MONEY = "decimal(14,2)"

SPEC = EntitySpec(
    entity="ad_campaign_hourly",
    source="ads",
    fields=(
        Field("campaign_id"),
        Field("stat_time_hour", TIMESTAMP),
        Field("campaign_name", required=False),
        Field("advertiser_id"),
        Field("marketplace_id"),
        Field("asin", required=False),
        Field("currency", CURRENCY),
        Field("spend", MONEY),
        Field("impressions", BIGINT),
        Field("clicks", BIGINT),
        Field("conversions", BIGINT),
        Field("gmv", MONEY),
        Field("daily_budget", MONEY, required=False),
    ),
    key=("campaign_id", "stat_time_hour"),
    partition_by="stat_time_hour",
    checks=(
        Check(
            "stat_time_hour is not the start of an hour",
            lambda: F.col("_t_stat_time_hour") == F.date_trunc("hour", F.col("_t_stat_time_hour")),
        ),
    ),
)


if __name__ == "__main__":
    raise SystemExit(main_for(SPEC))
