"""The logistics source (17track/AfterShip style): ``shipment`` versions and carrier ``tracking_event``s.

Both are fetched by ``updatedAfter``/``updatedBefore``: a shipment appears in every window where it moved,
as of its latest event there (DWD keeps the latest), and each tracking event lands once, in the window it
happened in. Declaring does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.http import ApiClient
from connectors.record_schema import RecordSchema, any_text, text, timestamp
from connectors.rest import PAGE_SIZE, Endpoint, SourceSpec, paged_resource
from connectors.source import Source, Window, iso_z

SOURCE = "logistics"
SHIPMENT = Endpoint(
    entity="shipment",
    path="/logistics/v1/shipments",
    list_key="shipments",
    primary_key=("shipment_id",),
    cursor_field="updated_at",
    schema=RecordSchema(
        version=1,
        fields={
            "shipment_id": text(),
            "tracking_number": text(),
            "carrier": text(),
            "order_id": text().or_null(),
            "marketplace_id": text(),
            "shop_id": text().or_null(),
            "lane": text().or_null(),
            "origin_port": text().or_null(),
            "destination_port": text().or_null(),
            "created_at": timestamp(),
            "updated_at": timestamp(),
            "status": text(),
            "promised_delivery_at": timestamp().or_null(),
            "delivered_at": timestamp().or_null(),
        },
    ),
)
TRACKING_EVENT = Endpoint(
    entity="tracking_event",
    path="/logistics/v1/tracking-events",
    list_key="events",
    primary_key=("event_id",),
    cursor_field="event_at",
    schema=RecordSchema(
        version=1,
        fields={
            "event_id": text(),
            "tracking_number": text(),
            "shipment_id": text(),
            "carrier": text(),
            "event_at": timestamp(),
            "tag": text(),
            "subtag": any_text().or_null(),
            "message": any_text().or_null(),
            "location": any_text().or_null(),
        },
    ),
)


def logistics_source(
    client: ApiClient,
    window: Window,
    marketplace_ids: Sequence[str] = (),
    page_size: int = PAGE_SIZE,
) -> Source:
    """Declare ``shipment`` and ``tracking_event`` for ``window`` (the API is not split by marketplace)."""
    params = {
        "updatedAfter": iso_z(window.start),
        "updatedBefore": iso_z(window.end),
        "pageSize": str(page_size),
    }
    resources = tuple(
        paged_resource(client, endpoint, params, interval=str(window), keep_params=("pageSize",))
        for endpoint in (SHIPMENT, TRACKING_EVENT)
    )
    return Source(name=SOURCE, resources=resources)


SPEC = SourceSpec(SOURCE, logistics_source, per_marketplace=False, windowed=True, lookback=True)
