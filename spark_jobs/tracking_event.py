"""ODS logistics tracking events → DWD ``tracking_event``: one row per event, unified carrier codes.

An event lands once, in the ODS day it happened, so this is a flat entity: ``ds`` is the UTC day of
``event_at``, duplicates of an event (the API re-serving a page) collapse to one row. The carrier's
``tag``/``subtag`` become ``carrier_tag``/``carrier_subtag`` and the unified ``event_code``
(:mod:`spark_jobs.carrier_codes`); an unmapped code is rejected to the quarantine with the carrier,
tag and subtag in its reason (the quarantine row and the job's log name the ODS day and event id).

PII: none. An event carries the tracking number, a city-level location ("Los Angeles, US") and a
canned carrier message; no recipient name, phone or street address is served.
``python -m spark_jobs.tracking_event --ds 2025-11-05`` or ``run_entity(spark, settings, SPEC, ds)``.
"""

from __future__ import annotations

from pyspark.sql import functions as F

from spark_jobs.carrier_codes import event_code_col, unknown_code_reason
from spark_jobs.entity_job import main_for
from spark_jobs.entity_spec import TIMESTAMP, Derived, EntitySpec, Field


def _code_inputs() -> tuple:
    return F.col("_t_carrier"), F.col("_t_carrier_tag"), F.col("_t_carrier_subtag")


SPEC = EntitySpec(
    entity="tracking_event",
    source="logistics",
    fields=(
        Field("event_id"),
        Field("shipment_id"),
        Field("tracking_number"),
        Field("carrier"),
        Field("event_at", TIMESTAMP),
        Field("tag", column="carrier_tag"),
        Field("subtag", required=False, column="carrier_subtag"),
        Field("message", required=False),
        Field("location", required=False),
    ),
    derived=(
        Derived(
            "event_code",
            expr=lambda: event_code_col(*_code_inputs()),
            reason=lambda: unknown_code_reason(*_code_inputs()),
        ),
    ),
    key=("event_id",),
    partition_by="event_at",
)


if __name__ == "__main__":
    raise SystemExit(main_for(SPEC))
