"""The ASIN metrics source: one day's ``asin_daily_snapshot`` (rank, price, rating, stock, buy box).

A daily snapshot endpoint: requested by ``date`` rather than an updated-at window, so the day's
partition is that date's snapshot of every launched ASIN. Declaring does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.http import ApiClient
from connectors.orders import DEFAULT_MARKETPLACE_IDS
from connectors.record_schema import RecordSchema, any_text, boolean, day, integer, money, number, text
from connectors.rest import PAGE_SIZE, Endpoint, SourceSpec, paged_resource
from connectors.source import Source, Window

SOURCE = "asin_metrics"
ASIN_DAILY_SNAPSHOT = Endpoint(
    entity="asin_daily_snapshot",
    path="/asin-metrics/v1/daily",
    list_key="snapshots",
    primary_key=("asin", "marketplaceId", "date"),
    cursor_field="date",
    schema=RecordSchema(
        version=1,
        fields={
            "asin": text(),
            "marketplaceId": text(),
            "date": day(),
            "bsr": integer(minimum=1).or_null(),
            "bsrCategory": any_text().or_null(),
            "categoryRank": integer(minimum=1).or_null(),
            "category": any_text().or_null(),
            "price": money().or_null(),
            "rating": number(minimum=0, maximum=5).or_null(),
            "reviewCount": integer(minimum=0),
            "inStock": boolean(),
            "buyBoxShare": number(minimum=0, maximum=1).or_null(),
            "sessions": integer(minimum=0),
            "pageViews": integer(minimum=0),
        },
    ),
)


def asin_metrics_source(
    client: ApiClient,
    window: Window,
    marketplace_ids: Sequence[str] = DEFAULT_MARKETPLACE_IDS,
    page_size: int = PAGE_SIZE,
) -> Source:
    """Declare ``asin_daily_snapshot`` for the day ``window`` starts on, across ``marketplace_ids``."""
    if not marketplace_ids:
        raise ValueError("asin_metrics_source needs at least one marketplace id")
    snapshot_day = window.start.date()
    params = {
        "marketplaceIds": ",".join(sorted(marketplace_ids)),
        "date": snapshot_day.isoformat(),
        "pageSize": str(page_size),
    }
    snapshot = paged_resource(client, ASIN_DAILY_SNAPSHOT, params, interval=f"date {snapshot_day}")
    return Source(name=SOURCE, resources=(snapshot,))


SPEC = SourceSpec(SOURCE, asin_metrics_source, per_marketplace=True)
