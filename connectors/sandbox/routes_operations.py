"""HTTP endpoints of the operations sources (logistics, shop health, ads, CRM) and their truth.

Each source is a ``paging.PagedSource``, so auth (``x-amz-access-token``), per-endpoint token buckets with
``x-amzn-RateLimit-Limit`` and 429 + ``Retry-After``, seeded faults, stable page tokens (``pageToken``)
and the ``{"numberOfResults", "pagination": {"nextToken"}, <list>}`` envelope behave exactly as on the
catalog and orders endpoints. Truth endpoints under ``/_truth/operations`` are for evaluation only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request, Response

from connectors.sandbox import ads, crm, logistics, shop_health, truth_operations
from connectors.sandbox.calendar import CALENDAR_END, CALENDAR_START, in_calendar
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.paging import (
    BadRequest,
    PagedEndpoint,
    PagedSource,
    error_response,
    json_response,
    parse_day,
    parse_time,
)
from connectors.sandbox.profiles import get_profile

SHIPMENTS_PATH = "/logistics/v1/shipments"
TRACKING_EVENTS_PATH = "/logistics/v1/tracking-events"
SHOP_HEALTH_PATH = "/shop-health/v1/daily"
ADS_HOURLY_PATH = "/ads/v1/campaigns/hourly"
CRM_EXPOSURES_PATH = "/crm/v1/exposures"
TRUTH_PREFIX = "/_truth/operations"
MAX_LOGISTICS_WINDOW = timedelta(days=7)
MAX_CRM_WINDOW = timedelta(days=31)
MAX_TRUTH_DAYS = 62


def _window(query: Mapping[str, str], after: str, before: str, limit: timedelta) -> dict:
    """A canonical [after, before) window in epoch seconds (``before`` defaults to one day later)."""
    start = parse_time(query.get(after), after)
    end = parse_time(query[before], before) if query.get(before) else start + timedelta(days=1)
    if not start < end <= start + limit:
        raise BadRequest(f"{before} must be after {after} and within {limit.days} days")
    return {"after": int(start.timestamp()), "before": int(end.timestamp())}


def _bounds(window: dict) -> tuple[datetime, datetime]:
    return datetime.fromtimestamp(window["after"], UTC), datetime.fromtimestamp(window["before"], UTC)


def _calendar_day(query: Mapping[str, str], name: str = "date") -> date:
    day = parse_day(query.get(name), name)
    if not in_calendar(day):
        raise BadRequest(f"{name} must be within {CALENDAR_START}..{CALENDAR_END}")
    return day


def _marketplace_filter(query: Mapping[str, str], config: SandboxConfig) -> list[str] | None:
    """Optional ``marketplaceIds`` filter, checked against the profile (None: every marketplace)."""
    requested = sorted({m for m in query.get("marketplaceIds", "").split(",") if m})
    unknown = set(requested) - set(get_profile(config.profile).marketplace_ids)
    if unknown:
        raise BadRequest(f"unknown marketplaceIds: {sorted(unknown)}")
    return requested or None


def _corrupt_with(options: tuple[Callable[[dict], dict], ...]) -> Callable[[dict, float], dict]:
    def corrupt(record: dict, u: float) -> dict:
        return options[int(u * len(options))](dict(record))

    return corrupt


def _drop(key: str) -> Callable[[dict], dict]:
    return lambda r: {k: v for k, v in r.items() if k != key}


def _set(key: str, value: object) -> Callable[[dict], dict]:
    return lambda r: {**r, key: value}


class ShipmentsSource(PagedSource):
    """Shipments that changed in [updatedAfter, updatedBefore), each as of its latest change there."""

    path, list_key = SHIPMENTS_PATH, "shipments"
    corrupt = staticmethod(
        _corrupt_with(
            (_drop("shipment_id"), _set("updated_at", "yesterday"), _set("promised_delivery_at", 0))
        )
    )

    def parse_window(self, query: Mapping[str, str]) -> dict:
        return _window(query, "updatedAfter", "updatedBefore", MAX_LOGISTICS_WINDOW)

    def records(self, window: dict) -> list[dict]:
        return logistics.shipment_versions(self.config.seed, *_bounds(window), self.config.profile)

    def record_key(self, record: dict) -> str:
        return f"{record['shipment_id']}@{record['updated_at']}"


class TrackingEventsSource(PagedSource):
    """Carrier tracking events that happened in [updatedAfter, updatedBefore)."""

    path, list_key = TRACKING_EVENTS_PATH, "events"
    corrupt = staticmethod(_corrupt_with((_drop("tracking_number"), _set("event_at", "31/02/2026 25:00"))))

    def parse_window(self, query: Mapping[str, str]) -> dict:
        return _window(query, "updatedAfter", "updatedBefore", MAX_LOGISTICS_WINDOW)

    def records(self, window: dict) -> list[dict]:
        return logistics.tracking_events(self.config.seed, *_bounds(window), self.config.profile)

    def record_key(self, record: dict) -> str:
        return record["event_id"]


class ShopHealthSource(PagedSource):
    """Every shop's health on ``date`` (optionally only some ``marketplaceIds``)."""

    path, list_key = SHOP_HEALTH_PATH, "shops"
    corrupt = staticmethod(_corrupt_with((_drop("shop_id"), _set("sps_score", "N/A"))))

    def parse_window(self, query: Mapping[str, str]) -> dict:
        window: dict = {"date": _calendar_day(query).isoformat()}
        if (marketplaces := _marketplace_filter(query, self.config)) is not None:
            window["marketplaceIds"] = marketplaces
        return window

    def records(self, window: dict) -> list[dict]:
        rows = shop_health.shop_health_records(
            self.config.seed, date.fromisoformat(window["date"]), self.config.profile
        )
        wanted = window.get("marketplaceIds")
        return [r for r in rows if wanted is None or r["marketplace_id"] in wanted]

    def record_key(self, record: dict) -> str:
        return f"{record['shop_id']}@{record['date']}"


class AdsHourlySource(PagedSource):
    """Every campaign's hourly metrics on ``date``."""

    path, list_key = ADS_HOURLY_PATH, "rows"
    corrupt = staticmethod(_corrupt_with((_drop("campaign_id"), _set("spend", "N/A"), _set("clicks", -1))))

    def parse_window(self, query: Mapping[str, str]) -> dict:
        window: dict = {"date": _calendar_day(query).isoformat()}
        if (marketplaces := _marketplace_filter(query, self.config)) is not None:
            window["marketplaceIds"] = marketplaces
        return window

    def records(self, window: dict) -> list[dict]:
        rows = ads.campaign_hours(self.config.seed, date.fromisoformat(window["date"]), self.config.profile)
        wanted = window.get("marketplaceIds")
        return [r for r in rows if wanted is None or r["marketplace_id"] in wanted]

    def record_key(self, record: dict) -> str:
        return f"{record['campaign_id']}@{record['stat_time_hour']}"


class CrmExposuresSource(PagedSource):
    """Campaign exposures (sent and held-out units) with ``sent_at`` in [sentAfter, sentBefore)."""

    path, list_key = CRM_EXPOSURES_PATH, "exposures"
    corrupt = staticmethod(_corrupt_with((_drop("customer_id"), _set("variant", None))))

    def parse_window(self, query: Mapping[str, str]) -> dict:
        return _window(query, "sentAfter", "sentBefore", MAX_CRM_WINDOW)

    def records(self, window: dict) -> list[dict]:
        return crm.exposures(self.config.seed, *_bounds(window), self.config.profile)

    def record_key(self, record: dict) -> str:
        return record["exposure_id"]


SOURCES: tuple[type[PagedSource], ...] = (
    ShipmentsSource,
    TrackingEventsSource,
    ShopHealthSource,
    AdsHourlySource,
    CrmExposuresSource,
)


def _truth_range(query: Mapping[str, str]) -> tuple[date, date]:
    first = parse_day(query.get("from"), "from")
    last = parse_day(query.get("to"), "to") if query.get("to") else first
    if not first <= last <= first + timedelta(days=MAX_TRUTH_DAYS):
        raise BadRequest(f"to must be on or after from and within {MAX_TRUTH_DAYS} days")
    return first, last


def _records(frame) -> list[dict]:
    return frame.to_dict("records") if len(frame) else []


def _truth_answers(config: SandboxConfig) -> dict[str, Callable[[Mapping[str, str]], object]]:
    seed, profile = config.seed, config.profile

    def crm_answer(q: Mapping[str, str]) -> object:
        name = q.get("experiment")
        if not name:
            raise BadRequest("experiment is required")
        try:
            truth = truth_operations.crm_truth(seed, name, profile)
        except KeyError as exc:
            raise BadRequest(str(exc)) from None
        return {
            "experiment": name,
            "ate_repurchase": truth.ate_repurchase,
            "ate_gmv": truth.ate_gmv,
            "units": _records(truth.units),
        }

    return {
        "/shipments": lambda q: {
            "shipments": _records(truth_operations.shipment_truth(seed, *_truth_range(q), profile))
        },
        "/shop-health": lambda q: {
            "shop_days": _records(truth_operations.shop_health_truth(seed, *_truth_range(q), profile))
        },
        "/ads/runaway-episodes": lambda q: {
            "episodes": _records(truth_operations.ads_runaway_truth(seed, profile))
        },
        "/crm": crm_answer,
    }


def _paged_route(endpoint: PagedEndpoint) -> Callable:
    async def get(request: Request) -> Response:
        return await endpoint.handle(request)

    return get


def _truth_route(answer: Callable[[Mapping[str, str]], object]) -> Callable:
    async def get(request: Request) -> Response:
        try:
            return json_response(answer(request.query_params))
        except BadRequest as exc:
            return error_response(400, "InvalidInput", str(exc))

    return get


def build_operations_router(config: SandboxConfig) -> APIRouter:
    """The operations endpoints and their truth as one router for ``app.include_router``."""
    router = APIRouter()
    for source_type in SOURCES:
        endpoint = PagedEndpoint(config, source_type(config))
        router.add_api_route(
            endpoint.source.path, _paged_route(endpoint), methods=["GET"], name=endpoint.source.path
        )
    for suffix, answer in _truth_answers(config).items():
        path = TRUTH_PREFIX + suffix
        router.add_api_route(path, _truth_route(answer), methods=["GET"], name=path)
    return router
