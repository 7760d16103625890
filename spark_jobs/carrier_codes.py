"""Unified carrier event codes: every carrier's tracking vocabulary mapped onto one small code set.

The logistics source is a tracking aggregator (17track/AfterShip style): it reports each carrier's scan
as a ``tag`` (the milestone) and a ``subtag`` (what exactly happened). Marts and models must not learn
that vocabulary (nor one per carrier), so DWD carries one unified ``event_code`` per event and one
unified ``shipment_status`` per shipment, and keeps the carrier's own tag/subtag beside it for audit.

Mapping rules:

* an event maps by its exact ``(tag, subtag)``; an event without a subtag maps by its tag alone;
* a known tag with an unknown subtag is **not** guessed from the tag: ``Exception_007`` (held by
  customs) and ``Exception_013`` (lost) mean very different things for delay attribution, so a new
  subtag is rejected with its carrier, tag and subtag named until someone maps it here;
* a shipment's status is its latest tag (the API gives no subtag there).

Every carrier the sandbox ships with (see ``connectors/sandbox/logistics.py`` ``LANES``) reports through
the aggregator's normalised vocabulary, so they share :data:`AGGREGATOR_EVENTS`; a carrier whose scans
need their own reading gets an entry in :data:`CARRIER_EVENTS`, which wins over the shared table.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column
from pyspark.sql import functions as F

# The unified codes, in journey order.
INFO_RECEIVED = "info_received"
PICKED_UP = "picked_up"
IN_TRANSIT = "in_transit"
ARRIVED_AT_DESTINATION = "arrived_at_destination"
CUSTOMS_HOLD = "customs_hold"
CUSTOMS_CLEARED = "customs_cleared"
DELAYED = "delayed"
OUT_FOR_DELIVERY = "out_for_delivery"
AVAILABLE_FOR_PICKUP = "available_for_pickup"
DELIVERY_FAILED = "delivery_failed"
DELIVERED = "delivered"
EXCEPTION = "exception"
LOST = "lost"
EXPIRED = "expired"
PENDING = "pending"

EVENT_CODES = (
    PENDING,
    INFO_RECEIVED,
    PICKED_UP,
    IN_TRANSIT,
    ARRIVED_AT_DESTINATION,
    CUSTOMS_HOLD,
    CUSTOMS_CLEARED,
    DELAYED,
    OUT_FOR_DELIVERY,
    AVAILABLE_FOR_PICKUP,
    DELIVERY_FAILED,
    DELIVERED,
    EXCEPTION,
    LOST,
    EXPIRED,
)

# Carriers the sandbox assigns to its lanes; all report through the aggregator's vocabulary.
CARRIERS = ("YunExpress", "4PX", "UPS", "FedEx", "USPS", "Royal Mail", "Evri")

# (tag, subtag) → unified code; subtag None: the tag's meaning when the carrier gives no subtag.
AGGREGATOR_EVENTS: Mapping[tuple[str, str | None], str] = {
    ("Pending", None): PENDING,
    ("InfoReceived", None): INFO_RECEIVED,
    ("InfoReceived", "InfoReceived_001"): INFO_RECEIVED,
    ("InTransit", None): IN_TRANSIT,
    ("InTransit", "InTransit_001"): PICKED_UP,
    ("InTransit", "InTransit_002"): IN_TRANSIT,  # departed origin port
    ("InTransit", "InTransit_003"): ARRIVED_AT_DESTINATION,
    ("InTransit", "InTransit_007"): CUSTOMS_CLEARED,
    ("OutForDelivery", None): OUT_FOR_DELIVERY,
    ("OutForDelivery", "OutForDelivery_001"): OUT_FOR_DELIVERY,
    ("AvailableForPickup", None): AVAILABLE_FOR_PICKUP,
    ("AttemptFail", None): DELIVERY_FAILED,
    ("AttemptFail", "AttemptFail_001"): DELIVERY_FAILED,  # recipient not home
    ("Delivered", None): DELIVERED,
    ("Delivered", "Delivered_001"): DELIVERED,
    ("Exception", None): EXCEPTION,
    ("Exception", "Exception_002"): DELAYED,  # carrier backlog
    ("Exception", "Exception_004"): DELAYED,  # port congestion: awaiting berth
    ("Exception", "Exception_007"): CUSTOMS_HOLD,
    ("Exception", "Exception_013"): LOST,
    ("Expired", None): EXPIRED,
}

# carrier → its own (tag, subtag) readings, consulted before the shared table (none needed today).
CARRIER_EVENTS: Mapping[str, Mapping[tuple[str, str | None], str]] = {}

# A shipment's latest tag → its unified status.
SHIPMENT_STATUSES: Mapping[str, str] = {
    tag: code for (tag, subtag), code in AGGREGATOR_EVENTS.items() if subtag is None
}


class UnknownCarrierCodeError(KeyError):
    """A carrier tag/subtag no table maps: publishing it would be a silent null in every mart."""


def event_code(carrier: str, tag: str, subtag: str | None) -> str:
    """The unified code of one event (Python side of :func:`event_code_col`, for tests and tools)."""
    for table in (CARRIER_EVENTS.get(carrier, {}), AGGREGATOR_EVENTS):
        if (tag, subtag) in table:
            return table[(tag, subtag)]
    raise UnknownCarrierCodeError(f"unknown carrier code {carrier} {tag}/{subtag}")


def _lookup_key(tag: Column, subtag: Column) -> Column:
    return F.concat(tag, F.lit("\u0001"), F.coalesce(subtag, F.lit("")))


def _literal_map(entries: Mapping[str, str]) -> Column:
    return F.create_map(*[F.lit(x) for pair in sorted(entries.items()) for x in pair])


def _table_map(table: Mapping[tuple[str, str | None], str], prefix: str = "") -> dict[str, str]:
    return {f"{prefix}{tag}\u0001{subtag or ''}": code for (tag, subtag), code in table.items()}


def event_code_col(carrier: Column, tag: Column, subtag: Column) -> Column:
    """The unified code of each event; null when neither the carrier's nor the shared table maps it."""
    key = _lookup_key(tag, subtag)
    shared = F.try_element_at(_literal_map(_table_map(AGGREGATOR_EVENTS)), key)
    overrides = {k: v for c, t in CARRIER_EVENTS.items() for k, v in _table_map(t, f"{c}\u0002").items()}
    if not overrides:
        return shared
    own = F.try_element_at(_literal_map(overrides), F.concat(carrier, F.lit("\u0002"), key))
    return F.coalesce(own, shared)


def shipment_status_col(tag: Column) -> Column:
    """The unified status of a shipment from its latest tag; null when the tag is unknown."""
    return F.try_element_at(_literal_map(SHIPMENT_STATUSES), tag)


def unknown_code_reason(carrier: Column, tag: Column, subtag: Column) -> Column:
    """Reject reason naming the unmapped code (the quarantine row carries ODS day and event id)."""
    return F.concat(
        F.lit("unknown carrier code "),
        F.coalesce(carrier, F.lit("?")),
        F.lit(" "),
        F.coalesce(tag, F.lit("?")),
        F.lit("/"),
        F.coalesce(subtag, F.lit("-")),
        F.lit(" (map it in spark_jobs/carrier_codes.py)"),
    )
