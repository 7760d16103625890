"""ODS logistics shipments → DWD ``shipment``: one row per shipment, latest ``updated_at`` wins.

A shipment reappears in every ODS day where it moved, as of its latest event there, so each run reads a
look-back window of ODS days (``entity_job`` ``lookback``) and rebuilds the ``created_at`` partitions of
that window: a shipment created on day *d* only changes on days >= *d*, so the window's ODS days hold
every version of every shipment created in it. The window is the longer of
``settings.dwd_lookback_days`` and :data:`LOOKBACK_DAYS`: a parcel keeps moving for up to 45 days after
its label (then the tracking API expires it), and a shorter window would freeze most shipments before
delivery. Shipments created before the window are counted ``outside_window`` and left as they are.

Conformed: ``shipment_status`` is the unified status of the carrier's latest tag
(:mod:`spark_jobs.carrier_codes`; an unknown tag is rejected with its name), ``is_delivered``,
``delay_days`` = (delivered_at - promised_delivery_at) in days, rounded to 0.01 (negative: early) and
``is_late`` = delivered after the promise; both null until delivered or without a promise.
PII: none (ids, carrier, lane and ports only; no recipient data is served).
``python -m spark_jobs.shipment --ds 2025-11-05`` or ``run_entity(spark, settings, SPEC, ds)``.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from spark_jobs.carrier_codes import DELIVERED, shipment_status_col
from spark_jobs.entity_job import main_for
from spark_jobs.entity_spec import TIMESTAMP, Check, Derived, EntitySpec, Field

LOOKBACK_DAYS = 45
SECONDS_PER_DAY = 86_400


def _t(column: str) -> Column:
    return F.col(f"_t_{column}")


def delay_days() -> Column:
    """Days delivered after the promise (exact to the microsecond, then rounded to 0.01)."""
    micros = F.unix_micros(_t("delivered_at")) - F.unix_micros(_t("promised_delivery_at"))
    return F.round(micros.cast("decimal(20,0)") / F.lit(SECONDS_PER_DAY * 1_000_000), 2).cast("decimal(8,2)")


def _unknown_status() -> Column:
    return F.concat(F.lit("unknown shipment status "), F.coalesce(_t("carrier_status"), F.lit("?")))


SPEC = EntitySpec(
    entity="shipment",
    source="logistics",
    fields=(
        Field("shipment_id"),
        Field("tracking_number"),
        Field("carrier"),
        Field("order_id", required=False),
        Field("marketplace_id"),
        Field("shop_id", required=False),
        Field("lane", required=False),
        Field("origin_port", required=False),
        Field("destination_port", required=False),
        Field("created_at", TIMESTAMP),
        Field("updated_at", TIMESTAMP),
        Field("status", column="carrier_status"),
        Field("promised_delivery_at", TIMESTAMP, required=False),
        Field("delivered_at", TIMESTAMP, required=False),
    ),
    derived=(
        Derived(
            "shipment_status", expr=lambda: shipment_status_col(_t("carrier_status")), reason=_unknown_status
        ),
        Derived(
            "is_delivered",
            expr=lambda: F.coalesce(shipment_status_col(_t("carrier_status")) == DELIVERED, F.lit(False)),
            reason=_unknown_status,
        ),
        Derived("delay_days", expr=delay_days, reason=lambda: F.lit(None), required=False),
        Derived(
            "is_late",
            expr=lambda: _t("delivered_at") > _t("promised_delivery_at"),
            reason=lambda: F.lit(None),
            required=False,
        ),
    ),
    checks=(
        Check("updated_at is before created_at", lambda: _t("updated_at") >= _t("created_at")),
        Check(
            "delivered without delivered_at",
            lambda: (_t("carrier_status") != "Delivered") | _t("delivered_at").isNotNull(),
        ),
        Check(
            "delivered_at is before created_at",
            lambda: _t("delivered_at").isNull() | (_t("delivered_at") >= _t("created_at")),
        ),
    ),
    key=("shipment_id",),
    partition_by="created_at",
    lookback=True,
    min_lookback_days=LOOKBACK_DAYS,
    version_by="updated_at",
)


if __name__ == "__main__":
    raise SystemExit(main_for(SPEC))
