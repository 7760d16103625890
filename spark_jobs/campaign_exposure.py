"""ODS CRM → DWD ``campaign_exposure``: one row per exposure; ``ds`` is the UTC date of ``sent_at``.

The CRM's ``customer_id`` is the marketplace BuyerId, so it becomes ``customer_key``, the same keyed hash
:mod:`spark_jobs.pii` gives ``dwd.order_item.customer_key`` (exposures join to orders on it). The CRM's
``exposure_id`` embeds that BuyerId (``<experiment>:<BuyerId>``), so DWD keeps only its keyed hash,
``exposure_key``. Neither clear value reaches DWD.
``python -m spark_jobs.campaign_exposure --ds 2025-11-05`` or ``run_entity(spark, settings, SPEC, ds)``.
"""

from __future__ import annotations

from spark_jobs.entity_job import main_for
from spark_jobs.entity_spec import BOOLEAN, CURRENCY, TIMESTAMP, EntitySpec, Field

CHANNELS = ("email", "sms")

SPEC = EntitySpec(
    entity="campaign_exposure",
    source="crm",
    fields=(
        Field("exposure_id", column="exposure_key", pii=True),
        Field("experiment"),
        Field("variant"),
        Field("customer_id", column="customer_key", pii=True),
        Field("marketplace_id"),
        Field("channel", required=False, enum=CHANNELS),
        Field("is_sent", BOOLEAN),
        Field("touch_cost", "decimal(12,4)"),
        Field("currency", CURRENCY),
        Field("sent_at", TIMESTAMP),
    ),
    key=("exposure_key",),
    partition_by="sent_at",
)


if __name__ == "__main__":
    raise SystemExit(main_for(SPEC))
