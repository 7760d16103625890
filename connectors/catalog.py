"""The catalog source (SP-API Catalog Items 2022-04-01 style): ``catalog_item`` listings changed in a window.

Fetched by ``lastUpdatedAfter``/``lastUpdatedBefore``, so a listing appears in every window where it
changed, as of its latest change there; DWD keeps the latest version. Declaring does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.http import ApiClient
from connectors.orders import DEFAULT_MARKETPLACE_IDS
from connectors.record_schema import (
    RecordSchema,
    any_text,
    boolean,
    day,
    integer,
    money,
    obj,
    text,
    text_list,
    timestamp,
)
from connectors.rest import PAGE_SIZE, Endpoint, SourceSpec, paged_resource
from connectors.source import Source, Window, iso_z

SOURCE = "catalog"
CATALOG_ITEM = Endpoint(
    entity="catalog_item",
    path="/catalog/2022-04-01/items",
    list_key="items",
    primary_key=("asin", "marketplaceId"),
    cursor_field="lastUpdatedDate",
    schema=RecordSchema(
        version=2,  # 2: unitCost, fulfillmentChannel, isSample
        fields={
            "asin": text(),
            "marketplaceId": text(),
            "lastUpdatedDate": timestamp(),
            "version": integer(minimum=0).optional(),
            "summaries": obj(
                itemName=any_text(),
                brand=any_text().optional().or_null(),
                browseClassification=obj(classificationId=text(), displayName=any_text()).optional(),
                categoryPath=text_list().optional(),
                releaseDate=day().optional().or_null(),
            ),
            "listPrice": money().optional().or_null(),
            "unitCost": money().optional().or_null(),
            "fulfillmentChannel": text().optional().or_null(),
            "isSample": boolean().optional().or_null(),
            "listingQuality": obj(
                imageCount=integer(minimum=0),
                bulletPointCount=integer(minimum=0),
                hasAPlusContent=boolean(),
                titleLength=integer(minimum=0),
            ).optional(),
        },
    ),
)


def catalog_source(
    client: ApiClient,
    window: Window,
    marketplace_ids: Sequence[str] = DEFAULT_MARKETPLACE_IDS,
    page_size: int = PAGE_SIZE,
) -> Source:
    """Declare ``catalog_item`` for listings changed in ``window`` across ``marketplace_ids``."""
    if not marketplace_ids:
        raise ValueError("catalog_source needs at least one marketplace id")
    params = {
        "marketplaceIds": ",".join(sorted(marketplace_ids)),
        "lastUpdatedAfter": iso_z(window.start),
        "lastUpdatedBefore": iso_z(window.end),
        "pageSize": str(page_size),
    }
    item = paged_resource(client, CATALOG_ITEM, params, interval=str(window))
    return Source(name=SOURCE, resources=(item,))


SPEC = SourceSpec(SOURCE, catalog_source, per_marketplace=True, windowed=True, lookback=True)
