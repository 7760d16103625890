"""ODS shop health → DWD ``shop_health_daily``: one row per (shop, snapshot date), latest version wins.

``python -m spark_jobs.shop_health_daily --ds 2025-11-05`` or ``run_entity(spark, settings, SPEC, ds)``.
"""

from __future__ import annotations

from spark_jobs.entity_job import main_for
from spark_jobs.entity_spec import BIGINT, DATE, DOUBLE, EntitySpec, Field

SPEC = EntitySpec(
    entity="shop_health_daily",
    source="shop_health",
    fields=(
        Field("shop_id"),
        Field("date", DATE, column="snapshot_date"),
        Field("shop_name", required=False),
        Field("marketplace_id"),
        Field("sps_score", DOUBLE),
        Field("late_dispatch_rate", DOUBLE),
        Field("cancellation_rate", DOUBLE),
        Field("negative_review_rate", DOUBLE),
        Field("orders_7d", BIGINT, required=False),
    ),
    key=("shop_id", "snapshot_date"),
    partition_by="snapshot_date",
)


if __name__ == "__main__":
    raise SystemExit(main_for(SPEC))
