"""The finances source (SP-API Finances ``listFinancialEvents``): ``refund_event`` records posted in a window.

Requested by ``PostedAfter``/``PostedBefore`` (no marketplace filter, as the real API), paged with
``payload.NextToken``; ``PostedDate`` is the cursor field. A refund event refunds some lines of one order
(``ShipmentItemAdjustmentList``), each with its charge (``Principal``, negative) and fee adjustments.
Declaring does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from connectors.http import ApiClient
from connectors.paginators import NextTokenPaginator
from connectors.record_schema import Field, RecordSchema, text, timestamp
from connectors.rest import PAGE_SIZE, Endpoint, SourceSpec, paged_resource
from connectors.source import Source, Window, iso_z

SOURCE = "finances"
RECORDS_PATH = ("payload", "FinancialEvents", "RefundEventList")


def _is_amount(value: Any) -> bool:
    """``{"CurrencyCode": "USD", "CurrencyAmount": -12.5}`` (Finances amounts are JSON numbers)."""
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("CurrencyCode"), str)
        and len(value["CurrencyCode"]) == 3
        and isinstance(value.get("CurrencyAmount"), int | float)
        and not isinstance(value["CurrencyAmount"], bool)
    )


def _is_adjustments(value: Any, kind: str) -> bool:
    """A list of ``{<kind>Type, <kind>Amount}`` adjustments (kind: ``Charge`` or ``Fee``)."""
    return isinstance(value, list) and all(
        isinstance(a, Mapping)
        and isinstance(a.get(f"{kind}Type"), str)
        and _is_amount(a.get(f"{kind}Amount"))
        for a in value
    )


def _is_item_adjustment(item: Any) -> bool:
    return (
        isinstance(item, Mapping)
        and all(isinstance(item.get(k), str) and item[k] for k in ("OrderAdjustmentItemId", "SellerSKU"))
        and isinstance(item.get("QuantityShipped"), int)
        and item["QuantityShipped"] >= 1
        and _is_adjustments(item.get("ItemChargeAdjustmentList"), "Charge")
        and _is_adjustments(item.get("ItemFeeAdjustmentList", []), "Fee")
    )


def item_adjustments() -> Field:
    """A non-empty list of refunded lines, each with its charge and fee adjustments."""
    return Field(
        "a non-empty list of item adjustments",
        lambda v: isinstance(v, list) and bool(v) and all(_is_item_adjustment(i) for i in v),
    )


# Paths inside the adjustment list, as the landing step's drift check names them (three levels deep).
ITEM_PATHS = frozenset(
    f"ShipmentItemAdjustmentList[].{p}"
    for p in (
        "OrderItemId", "OrderAdjustmentItemId", "SellerSKU", "ASIN", "QuantityShipped",
        "ItemChargeAdjustmentList", "ItemChargeAdjustmentList[].ChargeType",
        "ItemChargeAdjustmentList[].ChargeAmount", "ItemFeeAdjustmentList",
        "ItemFeeAdjustmentList[].FeeType", "ItemFeeAdjustmentList[].FeeAmount",
    )
)  # fmt: skip

REFUND_EVENT = Endpoint(
    entity="refund_event",
    path="/finances/v0/financialEvents",
    list_key="RefundEventList",
    primary_key=("AmazonOrderId", "PostedDate"),
    cursor_field="PostedDate",
    schema=RecordSchema(
        version=1,
        fields={
            "AmazonOrderId": text(),
            "SellerOrderId": text().optional().or_null(),
            "MarketplaceName": text(),
            "PostedDate": timestamp(),
            "ShipmentItemAdjustmentList": item_adjustments(),
        },
    ),
)


def finances_source(
    client: ApiClient,
    window: Window,
    marketplace_ids: Sequence[str] = (),
    page_size: int = PAGE_SIZE,
) -> Source:
    """Declare ``refund_event`` for refunds posted in ``window`` (every marketplace of the account)."""
    params = {
        "PostedAfter": iso_z(window.start),
        "PostedBefore": iso_z(window.end),
        "MaxResultsPerPage": str(page_size),
    }
    paginator = NextTokenPaginator(records_path=RECORDS_PATH, keep_params=("MaxResultsPerPage",))
    refund = paged_resource(client, REFUND_EVENT, params, interval=str(window), paginator=paginator)
    return Source(name=SOURCE, resources=(replace(refund, known_fields=refund.known_fields | ITEM_PATHS),))


SPEC = SourceSpec(SOURCE, finances_source, per_marketplace=False, windowed=True)
