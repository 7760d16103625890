"""The shop health source (TikTok Shop SPS style): one day's ``shop_health_daily`` of every shop.

A daily snapshot endpoint requested by ``date``. Declaring does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.http import ApiClient
from connectors.record_schema import RecordSchema, any_text, day, integer, number, text
from connectors.rest import PAGE_SIZE, Endpoint, SourceSpec, paged_resource
from connectors.source import Source, Window

SOURCE = "shop_health"
SHOP_HEALTH_DAILY = Endpoint(
    entity="shop_health_daily",
    path="/shop-health/v1/daily",
    list_key="shops",
    primary_key=("shop_id", "date"),
    cursor_field="date",
    schema=RecordSchema(
        version=1,
        fields={
            "shop_id": text(),
            "shop_name": any_text().optional(),
            "marketplace_id": text(),
            "date": day(),
            "sps_score": number(minimum=0, maximum=5),
            "late_dispatch_rate": number(minimum=0, maximum=1),
            "cancellation_rate": number(minimum=0, maximum=1),
            "negative_review_rate": number(minimum=0, maximum=1),
            "orders_7d": integer(minimum=0),
        },
    ),
)


def shop_health_source(
    client: ApiClient,
    window: Window,
    marketplace_ids: Sequence[str] = (),
    page_size: int = PAGE_SIZE,
) -> Source:
    """Declare ``shop_health_daily`` for the day ``window`` starts on, every shop of every marketplace."""
    snapshot_day = window.start.date()
    params = {"date": snapshot_day.isoformat(), "pageSize": str(page_size)}
    daily = paged_resource(
        client, SHOP_HEALTH_DAILY, params, interval=f"date {snapshot_day}", keep_params=("pageSize",)
    )
    return Source(name=SOURCE, resources=(daily,))


SPEC = SourceSpec(SOURCE, shop_health_source, per_marketplace=False)
