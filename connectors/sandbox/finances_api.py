"""Refunds and returns as ``PagedSource`` endpoints, in two channel vocabularies.

- ``GET /finances/v0/financialEvents``: SP-API Finances, refunds only. Windows are ``PostedAfter``/
  ``PostedBefore`` (default one day, at most 31); pages use ``MaxResultsPerPage`` and ``payload.NextToken``,
  the events are in ``payload.FinancialEvents.RefundEventList`` (``listFinancialEvents`` has no marketplace
  filter).
- ``GET /reports/v1/fba-customer-returns``: the FBA customer returns report's rows (kebab-case fields,
  stated ``reason`` and ``detailed-disposition`` codes), ``returnedAfter``/``returnedBefore`` windows in the
  shared ``pageToken`` envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import orjson

from connectors.sandbox.paging import BadRequest, PagedSource, parse_time
from connectors.sandbox.refunds import refund_events
from connectors.sandbox.returns import returns_between

FINANCES_PATH = "/finances/v0/financialEvents"
RETURNS_PATH = "/reports/v1/fba-customer-returns"
MAX_WINDOW = timedelta(days=31)


def _drop(record: dict, key: str) -> dict:
    return {k: v for k, v in record.items() if k != key}


class FinancesSource(PagedSource):
    """Refund events posted in a window, in (PostedDate, AmazonOrderId) order."""

    path = FINANCES_PATH
    list_key = "RefundEventList"
    token_param = "NextToken"
    size_param = "MaxResultsPerPage"
    marketplace_param = "MarketplaceIds"  # never sent by a Finances client; kept for the shared token check

    def parse_window(self, query: Mapping[str, str]) -> dict:
        after = parse_time(query.get("PostedAfter"), "PostedAfter")
        before_raw = query.get("PostedBefore")
        before = parse_time(before_raw, "PostedBefore") if before_raw else after + timedelta(days=1)
        if not after < before <= after + MAX_WINDOW:
            raise BadRequest(f"PostedBefore must be after PostedAfter and within {MAX_WINDOW.days} days")
        return {"after": int(after.timestamp()), "before": int(before.timestamp())}

    def records(self, window: dict) -> list[dict]:
        start = datetime.fromtimestamp(window["after"], UTC)
        end = datetime.fromtimestamp(window["before"], UTC)
        return refund_events(self.config.seed, start, end, self.config.profile)

    def record_key(self, record: dict) -> str:
        return f"{record['AmazonOrderId']}@{record['PostedDate']}"

    def corrupt(self, record: dict, u: float) -> dict:
        if u < 1 / 3:
            return _drop(record, "AmazonOrderId")
        if u < 2 / 3:
            return {**record, "PostedDate": "yesterday"}
        return {**record, "ShipmentItemAdjustmentList": None}

    def page_body(self, chunk: list[bytes], next_token: str | None, total: int) -> bytes:
        body = b'{"payload":{"FinancialEvents":{"RefundEventList":[' + b",".join(chunk) + b"]}"
        if next_token is not None:
            body += b',"NextToken":' + orjson.dumps(next_token)
        return body + b"}}"


class ReturnsSource(PagedSource):
    """FBA customer returns report rows returned in [returnedAfter, returnedBefore)."""

    path, list_key = RETURNS_PATH, "returns"

    def parse_window(self, query: Mapping[str, str]) -> dict:
        after = parse_time(query.get("returnedAfter"), "returnedAfter")
        before_raw = query.get("returnedBefore")
        before = parse_time(before_raw, "returnedBefore") if before_raw else after + timedelta(days=1)
        if not after < before <= after + MAX_WINDOW:
            raise BadRequest(f"returnedBefore must be after returnedAfter and within {MAX_WINDOW.days} days")
        return {"after": int(after.timestamp()), "before": int(before.timestamp())}

    def records(self, window: dict) -> list[dict]:
        start = datetime.fromtimestamp(window["after"], UTC)
        end = datetime.fromtimestamp(window["before"], UTC)
        return returns_between(self.config.seed, start, end, self.config.profile)

    def record_key(self, record: dict) -> str:
        return f"{record['order-id']}/{record['sku']}@{record['return-date']}"

    def corrupt(self, record: dict, u: float) -> dict:
        if u < 1 / 3:
            return _drop(record, "order-id")
        if u < 2 / 3:
            return {**record, "return-date": "yesterday"}
        return {**record, "quantity": "one"}
