"""Product-side endpoints: catalog items, ASIN daily metrics and reviews, plus their evaluation truth.

Catalog items carry each listing's landed ``unitCost``, ``fulfillmentChannel`` and ``isSample``; the
planted low-margin ASINs are served at ``/_truth/asin-margin``. All three use the Catalog Items
2022-04-01 envelope (``numberOfResults``, ``pagination.nextToken``, a list)
and ``marketplaceIds`` / ``pageToken`` / ``pageSize`` parameters; auth, limits and faults come from
``paging``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import orjson
from fastapi import FastAPI

from connectors.sandbox.asin_metrics import snapshots_for_day
from connectors.sandbox.catalog_items import catalog_versions
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.paging import (
    BadRequest,
    PagedEndpoint,
    PagedSource,
    mount,
    mount_truth,
    parse_day,
    parse_marketplaces,
    parse_time,
)
from connectors.sandbox.products import (
    CALENDAR_END,
    FULFILLMENT_CHANNELS,
    HISTORY_START,
    low_margin_rule_applies,
    products,
)
from connectors.sandbox.profiles import get_profile
from connectors.sandbox.reviews import reviews_between

CATALOG_PATH = "/catalog/2022-04-01/items"
ASIN_METRICS_PATH = "/asin-metrics/v1/daily"
REVIEWS_PATH = "/reviews/v1/reviews"
MAX_REVIEW_WINDOW = timedelta(days=31)
CATALOG_END = (
    int(datetime(CALENDAR_END.year, CALENDAR_END.month, CALENDAR_END.day, tzinfo=UTC).timestamp()) + 86_400
)


def _marketplaces(config: SandboxConfig, query: Mapping[str, str]) -> list[str]:
    return parse_marketplaces(query.get("marketplaceIds"), get_profile(config.profile).marketplace_ids)


class CatalogSource(PagedSource):
    """Listings as of ``lastUpdatedBefore`` (default: calendar end); with ``lastUpdatedAfter``, only those
    that changed in the window, each as of its latest change there (an incremental cursor for the DWD)."""

    path, list_key = CATALOG_PATH, "items"

    def parse_window(self, query: Mapping[str, str]) -> dict:
        marketplaces = _marketplaces(self.config, query)
        after_raw, before_raw = query.get("lastUpdatedAfter"), query.get("lastUpdatedBefore")
        after = int(parse_time(after_raw, "lastUpdatedAfter").timestamp()) if after_raw else None
        before = int(parse_time(before_raw, "lastUpdatedBefore").timestamp()) if before_raw else CATALOG_END
        if after is not None and after >= before:
            raise BadRequest("lastUpdatedBefore must be after lastUpdatedAfter")
        return {"marketplaceIds": marketplaces, "after": after, "before": before}

    def records(self, window: dict) -> list[dict]:
        c = self.config
        return catalog_versions(
            c.seed, window["after"], window["before"], c.profile, window["marketplaceIds"]
        )

    def record_key(self, record: dict) -> str:
        return f"{record['asin']}/{record['marketplaceId']}@{record['lastUpdatedDate']}"

    def corrupt(self, record: dict, u: float) -> dict:
        broken = dict(record)
        if u < 1 / 3:
            broken.pop("asin")
        elif u < 2 / 3:
            broken["listPrice"] = {**record["listPrice"], "amount": "N/A"}
        else:
            broken["lastUpdatedDate"] = "2025-13-45T99:00:00Z"
        return broken


class AsinMetricsSource(PagedSource):
    """One day's ``asin_daily_snapshot`` of every launched ASIN in the requested marketplaces."""

    path, list_key = ASIN_METRICS_PATH, "snapshots"

    def parse_window(self, query: Mapping[str, str]) -> dict:
        marketplaces = _marketplaces(self.config, query)
        day = parse_day(query.get("date"), "date")
        if not HISTORY_START <= day <= CALENDAR_END:
            raise BadRequest(f"date must be between {HISTORY_START} and {CALENDAR_END}")
        return {"marketplaceIds": marketplaces, "date": day.isoformat()}

    def records(self, window: dict) -> list[dict]:
        day = datetime.fromisoformat(window["date"]).date()
        wanted = set(window["marketplaceIds"])
        rows = snapshots_for_day(self.config.seed, day, self.config.profile)
        return [r for r in rows if r["marketplaceId"] in wanted]

    def record_key(self, record: dict) -> str:
        return f"{record['asin']}/{record['marketplaceId']}@{record['date']}"

    def corrupt(self, record: dict, u: float) -> dict:
        broken = dict(record)
        if u < 1 / 3:
            broken.pop("asin")
        elif u < 2 / 3:
            broken["bsr"] = "-"
        else:
            broken["sessions"] = -1
        return broken


class ReviewsSource(PagedSource):
    """Reviews posted in [``postedAfter``, ``postedBefore``) (default one day, at most 31)."""

    path, list_key = REVIEWS_PATH, "reviews"

    def parse_window(self, query: Mapping[str, str]) -> dict:
        marketplaces = _marketplaces(self.config, query)
        after = parse_time(query.get("postedAfter"), "postedAfter")
        before_raw = query.get("postedBefore")
        before = parse_time(before_raw, "postedBefore") if before_raw else after + timedelta(days=1)
        if not after < before <= after + MAX_REVIEW_WINDOW:
            raise BadRequest(
                f"postedBefore must be after postedAfter and within {MAX_REVIEW_WINDOW.days} days"
            )
        first = datetime(HISTORY_START.year, HISTORY_START.month, HISTORY_START.day, tzinfo=UTC)
        if after < first or before.timestamp() > CATALOG_END:
            raise BadRequest(f"reviews are served between {HISTORY_START} and {CALENDAR_END}")
        return {
            "marketplaceIds": marketplaces,
            "after": int(after.timestamp()),
            "before": int(before.timestamp()),
        }

    def records(self, window: dict) -> list[dict]:
        c = self.config
        start = datetime.fromtimestamp(window["after"], UTC)
        end = datetime.fromtimestamp(window["before"], UTC)
        return [r.record() for r in reviews_between(c.seed, start, end, c.profile, window["marketplaceIds"])]

    def record_key(self, record: dict) -> str:
        return record["reviewId"]

    def corrupt(self, record: dict, u: float) -> dict:
        broken = dict(record)
        if u < 1 / 3:
            broken.pop("reviewId")
        elif u < 2 / 3:
            broken["rating"] = "five stars"
        else:
            broken["postedAt"] = "yesterday"
        return broken


def mount_product_endpoints(app: FastAPI, config: SandboxConfig) -> dict[str, PagedEndpoint]:
    """Mount catalog, ASIN metrics and reviews (and their ``/_truth/`` twins); returns the endpoints."""
    from connectors.sandbox import truth  # evaluation code, imported here so connectors never need it

    endpoints = {
        source.path: PagedEndpoint(config, source)
        for source in (CatalogSource(config), AsinMetricsSource(config), ReviewsSource(config))
    }
    for endpoint in endpoints.values():
        mount(app, endpoint)
    metrics = endpoints[ASIN_METRICS_PATH].source
    reviews = endpoints[REVIEWS_PATH].source

    def momentum_truth(query: Mapping[str, str]) -> object:
        window = metrics.parse_window(query)
        day = datetime.fromisoformat(window["date"]).date()
        frame = truth.asin_momentum_truth(config.seed, config.profile, day)
        frame = frame[frame["marketplace_id"].isin(window["marketplaceIds"])]
        return orjson.loads(frame.assign(date=window["date"]).to_json(orient="records"))

    def cause_truth(query: Mapping[str, str]) -> object:
        window = reviews.parse_window(query)
        start = datetime.fromtimestamp(window["after"], UTC)
        end = datetime.fromtimestamp(window["before"], UTC)
        frame = truth.review_cause_truth(config.seed, config.profile, start, end)
        frame = frame[frame["marketplace_id"].isin(window["marketplaceIds"])]
        return orjson.loads(frame.to_json(orient="records"))

    def margin_truth(query: Mapping[str, str]) -> object:
        """Per ASIN: the cost ratio, the planted low-margin flag, channel, sample flag, rule eligibility."""
        p = products(config.seed, config.profile)
        eligible = low_margin_rule_applies(p)
        return [
            {
                "asin": asin,
                "cost_ratio": round(float(p.cost_ratio[i]), 4),
                "is_low_margin": bool(p.low_margin[i]),
                "fulfillment_channel": FULFILLMENT_CHANNELS[int(p.fulfillment[i])],
                "is_sample": bool(p.is_sample[i]),
                "low_margin_rule_applies": bool(eligible[i]),
            }
            for i, asin in enumerate(p.asin)
        ]

    mount_truth(app, "/_truth/asin-momentum", momentum_truth)
    mount_truth(app, "/_truth/asin-margin", margin_truth)
    mount_truth(app, "/_truth/review-causes", cause_truth)
    return endpoints
