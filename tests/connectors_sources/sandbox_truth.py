"""Test constants, and the sandbox's own clean records of a day per entity (its generators, no HTTP)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from connectors.sandbox import ads, crm, logistics, shop_health
from connectors.sandbox.asin_metrics import snapshots_for_day
from connectors.sandbox.catalog_items import catalog_versions
from connectors.sandbox.config import FaultConfig
from connectors.sandbox.orders import order_versions
from connectors.sandbox.reviews import reviews_between
from connectors.source import Window

SEED = 17
RATE = 200.0  # the sandbox's advertised limit in these tests, and the client's pace
FAULTS = FaultConfig(
    error_5xx_rate=0.1,
    throttle_429_rate=0.05,
    malformed_rate=0.01,
    duplicate_rate=0.01,
    retry_after_seconds=0,
)


def truth_records(entity: str, seed: int, ds: date, marketplace_ids: Sequence[str]) -> list[dict]:
    if entity == "asin_daily_snapshot":
        return [r for r in snapshots_for_day(seed, ds, "small") if r["marketplaceId"] in marketplace_ids]
    if entity == "shop_health_daily":
        return list(shop_health.shop_health_records(seed, ds, "small"))
    if entity == "ad_campaign_hourly":
        return list(ads.campaign_hours(seed, ds, "small"))
    return window_truth(entity, seed, Window.for_day(ds), marketplace_ids)


def window_truth(entity: str, seed: int, window: Window, marketplace_ids: Sequence[str]) -> list[dict]:
    """The clean records the sandbox serves for one request window of a windowed entity."""
    start, end = window.start, window.end
    mps = sorted(marketplace_ids)
    if entity == "order":
        return order_versions(seed, start, end, "small", mps)
    if entity == "catalog_item":
        return catalog_versions(seed, int(start.timestamp()), int(end.timestamp()), "small", mps)
    if entity == "review":
        return [r.record() for r in reviews_between(seed, start, end, "small", mps)]
    if entity == "shipment":
        return logistics.shipment_versions(seed, start, end, "small")
    if entity == "tracking_event":
        return logistics.tracking_events(seed, start, end, "small")
    if entity == "campaign_exposure":
        return crm.exposures(seed, start, end, "small")
    if entity == "refund_event":
        from connectors.sandbox.refunds import refund_events

        return refund_events(seed, start, end, "small")
    raise KeyError(entity)
