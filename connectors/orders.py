"""The orders source (SP-API Orders style): declares the ``order`` resource; does no I/O itself.

Orders are fetched by ``LastUpdateDate`` window, so an order appears in every window where it changed
(late-arriving updates); DWD keeps the latest version. Order items arrive embedded in each order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from connectors.http import ApiClient
from connectors.paginators import NextTokenPaginator
from connectors.schemas import ORDER_FIELDS, validate_order
from connectors.source import Page, Resource, Source, Window, iso_z

SOURCE = "orders"
ENTITY = "order"
ORDERS_ENDPOINT = "/orders/v0/orders"
SCHEMA_VERSION = 1
PAGE_SIZE = 100
DEFAULT_MARKETPLACE_IDS: tuple[str, ...] = ("ATVPDKIKX0DER", "A1F83G8C2ARO7P")  # Amazon US, Amazon UK


def orders_source(
    client: ApiClient,
    window: Window,
    marketplace_ids: Sequence[str] = DEFAULT_MARKETPLACE_IDS,
    page_size: int = PAGE_SIZE,
) -> Source:
    """Declare the orders resources for one ``LastUpdateDate`` window across ``marketplace_ids``."""
    if not marketplace_ids:
        raise ValueError("orders_source needs at least one marketplace id")
    params = {
        "MarketplaceIds": ",".join(marketplace_ids),
        "LastUpdatedAfter": iso_z(window.start),
        "LastUpdatedBefore": iso_z(window.end),
        "MaxResultsPerPage": str(page_size),
    }

    def fetch(request: Mapping[str, str]) -> tuple[Any, int]:
        response = client.get(ORDERS_ENDPOINT, request, interval=str(window))
        return response.body, response.attempts

    def pages() -> Iterator[Page]:
        for page in NextTokenPaginator(keep_params=("MarketplaceIds", "MaxResultsPerPage")).paginate(
            fetch, params
        ):
            client.add_records(len(page.records))
            yield page

    order = Resource(
        name=ENTITY,
        primary_key=("AmazonOrderId",),
        cursor_field="LastUpdateDate",
        schema_version=SCHEMA_VERSION,
        pages=pages,
        validate=validate_order,
        known_fields=ORDER_FIELDS,
    )
    return Source(name=SOURCE, resources=(order,))
