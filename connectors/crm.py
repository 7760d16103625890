"""The CRM source: ``campaign_exposure`` (experiment, customer, variant, channel, touch cost, sent at).

Fetched by ``sentAfter``/``sentBefore``. Customer ids are pseudonymous keys; reasons name fields only.
Declaring does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.http import ApiClient
from connectors.record_schema import RecordSchema, boolean, currency, number, text, timestamp
from connectors.rest import PAGE_SIZE, Endpoint, SourceSpec, paged_resource
from connectors.source import Source, Window, iso_z

SOURCE = "crm"
CAMPAIGN_EXPOSURE = Endpoint(
    entity="campaign_exposure",
    path="/crm/v1/exposures",
    list_key="exposures",
    primary_key=("exposure_id",),
    cursor_field="sent_at",
    schema=RecordSchema(
        version=1,
        fields={
            "exposure_id": text(),
            "experiment": text(),
            "variant": text(),
            "customer_id": text(),
            "marketplace_id": text(),
            "channel": text().or_null(),
            "is_sent": boolean(),
            "touch_cost": number(minimum=0),
            "currency": currency(),
            "sent_at": timestamp(),
        },
    ),
)


def crm_source(
    client: ApiClient,
    window: Window,
    marketplace_ids: Sequence[str] = (),
    page_size: int = PAGE_SIZE,
) -> Source:
    """Declare ``campaign_exposure`` for exposures sent in ``window``."""
    params = {"sentAfter": iso_z(window.start), "sentBefore": iso_z(window.end), "pageSize": str(page_size)}
    exposure = paged_resource(
        client, CAMPAIGN_EXPOSURE, params, interval=str(window), keep_params=("pageSize",)
    )
    return Source(name=SOURCE, resources=(exposure,))


SPEC = SourceSpec(SOURCE, crm_source, per_marketplace=False, windowed=True)
