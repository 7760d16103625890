"""The orders source (SP-API Orders style): declares the ``order`` resource; does no I/O itself.

Orders are fetched by ``LastUpdateDate`` window, so an order appears in every window where it changed
(late-arriving updates); DWD keeps the latest version. Order items arrive embedded in each order. The file
importers land the same record shape, so ``ORDER.schema`` is their contract too.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.http import ApiClient
from connectors.paginators import NextTokenPaginator
from connectors.record_schema import (
    Field,
    RecordSchema,
    integer,
    money,
    obj,
    object_list,
    one_of,
    text,
    timestamp,
)
from connectors.rest import PAGE_SIZE, Endpoint, SourceSpec, paged_resource
from connectors.source import Source, Window, iso_z

SOURCE = "orders"
DEFAULT_MARKETPLACE_IDS: tuple[str, ...] = ("ATVPDKIKX0DER", "A1F83G8C2ARO7P")  # Amazon US, Amazon UK

AMAZON_ORDER_STATUSES = frozenset(
    {
        "Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled", "Unfulfillable",
        "InvoiceUnconfirmed", "PendingAvailability",
    }
)  # fmt: skip


def _unchecked() -> Field:
    """A field DWD reads (and types) but landing does not check: known, so it is not drift."""
    return Field("any value", lambda _: True, required=False, nullable=True)


ORDER = Endpoint(
    entity="order",
    path="/orders/v0/orders",
    list_key="Orders",
    primary_key=("AmazonOrderId",),
    cursor_field="LastUpdateDate",
    schema=RecordSchema(
        version=1,
        fields={
            "AmazonOrderId": text(),
            "MarketplaceId": text(),
            "PurchaseDate": timestamp(),
            "LastUpdateDate": timestamp(),
            "OrderStatus": one_of(AMAZON_ORDER_STATUSES, "Amazon's status vocabulary"),
            "SalesChannel": _unchecked(),
            "BuyerInfo": obj(
                BuyerId=text(),
                BuyerEmail=_unchecked(),
                BuyerName=_unchecked(),
                BuyerPhone=_unchecked(),
            ),
            "OrderTotal": money("Amount", "CurrencyCode").optional(),
            "OrderItems": object_list(
                OrderItemId=text(),
                ASIN=text(),
                SellerSKU=_unchecked(),
                QuantityOrdered=integer(minimum=0),
                ItemPrice=money("Amount", "CurrencyCode").optional(),
            ),
        },
    ),
)


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
    keep = ("MarketplaceIds", "MaxResultsPerPage")
    paginator = NextTokenPaginator(records_path=("payload", ORDER.list_key), keep_params=keep)
    order = paged_resource(client, ORDER, params, interval=str(window), paginator=paginator)
    return Source(name=SOURCE, resources=(order,))


# Per marketplace, windowed on LastUpdateDate, looking back for updates the API published late.
SPEC = SourceSpec(SOURCE, orders_source, per_marketplace=True, windowed=True, lookback=True)
