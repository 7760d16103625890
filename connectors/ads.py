"""The ads source (Smart+ style): ``ad_campaign_hourly`` metrics of every campaign for one day.

Requested by ``date`` (the API reports whole days of hourly rows); ``stat_time_hour`` is the cursor field.
Schema v2 adds the campaign's advertised ``asin``, optional and nullable: days landed at v1 have none (and
are fetched again, as any day whose schema version changed), and a campaign advertising no single product
may send none. Declaring does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.http import ApiClient
from connectors.record_schema import RecordSchema, any_text, currency, integer, number, text, timestamp
from connectors.rest import PAGE_SIZE, Endpoint, SourceSpec, paged_resource
from connectors.source import Source, Window

SOURCE = "ads"
AD_CAMPAIGN_HOURLY = Endpoint(
    entity="ad_campaign_hourly",
    path="/ads/v1/campaigns/hourly",
    list_key="rows",
    primary_key=("campaign_id", "stat_time_hour"),
    cursor_field="stat_time_hour",
    schema=RecordSchema(
        version=2,  # 2: asin
        fields={
            "campaign_id": text(),
            "campaign_name": any_text().optional(),
            "advertiser_id": text(),
            "marketplace_id": text(),
            "asin": text().optional().or_null(),
            "currency": currency(),
            "stat_time_hour": timestamp(),
            "spend": number(minimum=0),
            "impressions": integer(minimum=0),
            "clicks": integer(minimum=0),
            "conversions": integer(minimum=0),
            "gmv": number(minimum=0),
            "daily_budget": number(minimum=0).optional(),
        },
    ),
)


def ads_source(
    client: ApiClient,
    window: Window,
    marketplace_ids: Sequence[str] = (),
    page_size: int = PAGE_SIZE,
) -> Source:
    """Declare ``ad_campaign_hourly`` for the day ``window`` starts on, every campaign."""
    report_day = window.start.date()
    params = {"date": report_day.isoformat(), "pageSize": str(page_size)}
    hourly = paged_resource(
        client, AD_CAMPAIGN_HOURLY, params, interval=f"date {report_day}", keep_params=("pageSize",)
    )
    return Source(name=SOURCE, resources=(hourly,))


SPEC = SourceSpec(SOURCE, ads_source, per_marketplace=False)
