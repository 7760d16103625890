"""The SP-API Orders endpoint (``GET /orders/v0/orders``) as a ``PagedSource``.

Windows are ``LastUpdatedAfter``/``LastUpdatedBefore`` ranges (at most 31 days); each order that changed in
the window is served once, as of its latest change in it (see ``orders.order_versions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import orjson

from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.faults import CORRUPTIONS, FaultDice, corrupt, negate_first_item_price
from connectors.sandbox.orders import order_versions
from connectors.sandbox.paging import BadRequest, PagedSource, parse_marketplaces, parse_time
from connectors.sandbox.profiles import get_profile

ORDERS_PATH = "/orders/v0/orders"
MAX_WINDOW = timedelta(days=31)


class OrdersSource(PagedSource):
    """Orders changed in a window, paged with SP-API's ``NextToken`` and ``payload.Orders`` envelope."""

    path = ORDERS_PATH
    list_key = "Orders"
    token_param = "NextToken"
    size_param = "MaxResultsPerPage"
    marketplace_param = "MarketplaceIds"

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__(config)
        self.dice = FaultDice(config.seed)

    def parse_window(self, query: Mapping[str, str]) -> dict:
        known = get_profile(self.config.profile).marketplace_ids
        marketplaces = parse_marketplaces(query.get("MarketplaceIds"), known, "MarketplaceIds")
        after = parse_time(query.get("LastUpdatedAfter"), "LastUpdatedAfter")
        before_raw = query.get("LastUpdatedBefore")
        before = parse_time(before_raw, "LastUpdatedBefore") if before_raw else after + timedelta(days=1)
        if not after < before <= after + MAX_WINDOW:
            raise BadRequest(
                f"LastUpdatedBefore must be after LastUpdatedAfter and within {MAX_WINDOW.days} days"
            )
        return {
            "marketplaceIds": marketplaces,
            "after": int(after.timestamp()),
            "before": int(before.timestamp()),
        }

    def records(self, window: dict) -> list[dict]:
        return order_versions(
            self.config.seed,
            datetime.fromtimestamp(window["after"], UTC),
            datetime.fromtimestamp(window["before"], UTC),
            self.config.profile,
            window["marketplaceIds"],
        )

    def record_key(self, record: dict) -> str:
        return f"{record['AmazonOrderId']}@{record['LastUpdateDate']}"

    def corrupt(self, record: dict, u: float) -> dict:
        return corrupt(record, CORRUPTIONS[int(u * len(CORRUPTIONS))])

    def tamper(self, record: dict, key: str) -> dict:
        rate = self.config.faults.negative_price_rate
        if rate and self.dice.roll("negative-price", key) < rate:
            return negate_first_item_price(record)
        return record

    def page_body(self, chunk: list[bytes], next_token: str | None, total: int) -> bytes:
        body = b'{"payload":{"Orders":[' + b",".join(chunk) + b"]"
        if next_token is not None:
            body += b',"NextToken":' + orjson.dumps(next_token)
        return body + b"}}"
