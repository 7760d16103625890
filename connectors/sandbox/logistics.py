"""Shipments and carrier tracking events (17track/AfterShip style) for the sandbox's shipped orders.

Every order of ``orders.orders_for_day`` that reaches ``Shipped`` gets one shipment, created when the
label is printed (the order's Shipped time). Its journey is drawn from streams keyed by the order's
purchase day, so a shipment never depends on other days. Delays have causes from the calendar: the
Spring Festival lengthens the pickup wait (warehouse staff away, carrier capacity down) and the port
congestion holds parcels on the congested lane at the destination port; carrier exceptions and failed
delivery attempts add noise. An order carrying a late-delivery churn trigger (``orders``) is held by the
carrier for ``TRIGGER_DELAY_DAYS`` more (a ``carrier_exception``): the late parcel that makes its customer
drop out. The decomposition is kept as truth.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np

from connectors.sandbox import calendar
from connectors.sandbox.orders import iso_z, orders_for_day
from connectors.sandbox.population import CHURN_LATE_DELIVERY
from connectors.sandbox.shop_health import Shop, shops_of

STREAM_SHIPMENTS = 21
HOUR = 3_600.0
DAY = 86_400.0
PURCHASE_TO_LABEL_DAYS = 5  # orders.py: every status change happens within five days of purchase
MAX_JOURNEY_DAYS = 45  # label to last tracking event, clipped
HORIZON_DAYS = PURCHASE_TO_LABEL_DAYS + MAX_JOURNEY_DAYS + 1
TRIGGER_DELAY_DAYS = (6.0, 12.0)  # carrier hold of a parcel whose lateness ends its customer's lifetime


@dataclass(frozen=True)
class Lane:
    lane_id: str
    origin_port: str
    destination_port: str
    linehaul_days: float  # typical pickup -> destination port
    last_mile_days: float  # typical port -> door
    promised_days: int  # purchase -> promised delivery date
    carriers: tuple[str, ...]


LANES = {
    "CN-USW": Lane("CN-USW", "CNYTN", "USLAX", 5.0, 2.5, 14, ("YunExpress", "4PX", "UPS")),
    "CN-USE": Lane("CN-USE", "CNSHA", "USEWR", 6.5, 2.5, 16, ("YunExpress", "FedEx", "USPS")),
    "CN-UK": Lane("CN-UK", "CNNGB", "GBFXT", 6.0, 2.0, 15, ("YunExpress", "Royal Mail", "Evri")),
}

CAUSE_NONE = "on_time"
CAUSE_CARRIER = "carrier_exception"
CAUSE_FAILED_ATTEMPT = "failed_attempt"
CAUSE_VARIANCE = "transit_variance"
CAUSE_LOST = "lost"


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    at: int  # epoch seconds
    tag: str  # AfterShip-style: InfoReceived, InTransit, Exception, OutForDelivery, AttemptFail, Delivered
    subtag: str
    message: str
    location: str


@dataclass(frozen=True, slots=True)
class Shipment:
    """One parcel with its whole journey; the delay components (days) are truth, not served."""

    shipment_id: str
    tracking_number: str
    order_id: str
    marketplace_id: str
    shop_id: str
    carrier: str
    lane: Lane
    purchased_at: int
    promised_at: int  # end of the promised delivery day
    events: tuple[TrackingEvent, ...]
    delivered_at: int | None
    festival_delay_days: float
    congestion_delay_days: float
    exception_delay_days: float
    attempt_delay_days: float

    def record(self, version: int) -> dict:
        """The shipment as the tracking API shows it after its ``version``-th event."""
        last = self.events[version]
        delivered = self.delivered_at if last.tag == "Delivered" else None
        return {
            "shipment_id": self.shipment_id,
            "tracking_number": self.tracking_number,
            "carrier": self.carrier,
            "order_id": self.order_id,
            "marketplace_id": self.marketplace_id,
            "shop_id": self.shop_id,
            "lane": self.lane.lane_id,
            "origin_port": self.lane.origin_port,
            "destination_port": self.lane.destination_port,
            "created_at": iso_z(self.events[0].at),
            "updated_at": iso_z(last.at),
            "status": last.tag,
            "promised_delivery_at": iso_z(self.promised_at),
            "delivered_at": iso_z(delivered) if delivered is not None else None,
        }

    def event_record(self, index: int) -> dict:
        event = self.events[index]
        return {
            "event_id": f"{self.tracking_number}-{index:02d}",
            "tracking_number": self.tracking_number,
            "shipment_id": self.shipment_id,
            "carrier": self.carrier,
            "event_at": iso_z(event.at),
            "tag": event.tag,
            "subtag": event.subtag,
            "message": event.message,
            "location": event.location,
        }

    @property
    def delay_days(self) -> float | None:
        """Days delivered after the promise (negative: early); None when the parcel was lost."""
        if self.delivered_at is None:
            return None
        return (self.delivered_at - self.promised_at) / DAY

    @property
    def cause(self) -> str:
        """The main reason the parcel was late (``on_time`` when it was not)."""
        if self.delivered_at is None:
            return CAUSE_LOST
        if self.delay_days is None or self.delay_days <= 0:
            return CAUSE_NONE
        parts = {
            calendar.EPISODE_SPRING_FESTIVAL: self.festival_delay_days,
            calendar.EPISODE_PORT_CONGESTION: self.congestion_delay_days,
            CAUSE_CARRIER: self.exception_delay_days,
            CAUSE_FAILED_ATTEMPT: self.attempt_delay_days,
        }
        name, days = max(parts.items(), key=lambda kv: kv[1])
        return name if days >= 0.5 else CAUSE_VARIANCE


def _epoch_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def _shop_for(order_asin: str, shops: tuple[Shop, ...]) -> Shop:
    """Each ASIN belongs to one shop of its marketplace (a stable hash, so catalog and logistics agree)."""
    return shops[zlib.crc32(order_asin.encode()) % len(shops)]


def _exp1(x: float) -> float:
    """An exponential(1) draw from a uniform, capped so no journey outgrows the horizon."""
    return float(min(-np.log1p(-x), 4.0))


def _journey(
    label_at: int, lane: Lane, shop: Shop, u: np.ndarray, location_city: str, held: bool = False
) -> tuple[list[TrackingEvent], int | None, tuple[float, float, float, float]]:
    """Events from label to delivery; ``u`` holds this parcel's uniforms (fixed layout, see below).

    ``held``: the carrier holds the parcel (a churn trigger), late whatever the calendar does."""
    label_day = _epoch_day(label_at)
    festival = (
        calendar.festival_dispatch_delay_days(label_day) * (0.4 + 1.2 * shop.sf_sensitivity) * _exp1(u[1])
    )
    festival += 3.0 * (1.0 - calendar.carrier_capacity(label_day)) * u[2]  # carriers short of trucks
    q4 = calendar.q4_dispatch_delay_days(label_day) * _exp1(u[1])
    base_pickup = (6 + 30 * u[0]) * HOUR + q4 * DAY
    pickup = label_at + base_pickup + festival * DAY
    depart = pickup + (12 + 24 * u[3]) * HOUR
    arrive = depart + lane.linehaul_days * (0.8 + 0.5 * u[4]) * DAY
    congestion = calendar.port_delay_days(_epoch_day(arrive), lane.lane_id) * _exp1(u[5])
    customs_exception = u[6] < 0.03
    exception = (2 + 4 * u[7]) if customs_exception else 0.0
    lo, hi = TRIGGER_DELAY_DAYS
    hold = lo + (hi - lo) * u[7] if held else 0.0
    exception += hold
    cleared = arrive + (8 + 24 * u[8]) * HOUR + (congestion + exception) * DAY
    out_day = _epoch_day(cleared + lane.last_mile_days * (0.7 + 0.6 * u[9]) * DAY)
    out_for_delivery = int(datetime(out_day.year, out_day.month, out_day.day, 8, tzinfo=UTC).timestamp())
    out_for_delivery += int(u[10] * 3 * HOUR)
    failed = u[11] < 0.05
    attempt = 1.0 if failed else 0.0
    lost = u[12] < 0.004

    at = lambda t: int(t)  # noqa: E731
    origin, dest = lane.origin_port, lane.destination_port
    events = [
        TrackingEvent(label_at, "InfoReceived", "InfoReceived_001", "Shipping label created", "Shenzhen, CN"),
        TrackingEvent(at(pickup), "InTransit", "InTransit_001", "Picked up by carrier", "Shenzhen, CN"),
        TrackingEvent(at(depart), "InTransit", "InTransit_002", "Departed origin port", origin),
        TrackingEvent(at(arrive), "InTransit", "InTransit_003", "Arrived at destination port", dest),
    ]
    if lost:
        events.append(TrackingEvent(at(arrive + 10 * DAY), "Exception", "Exception_013", "Parcel lost", dest))
        return events, None, (festival, congestion, exception, 0.0)
    if congestion >= 1.0:
        events.append(
            TrackingEvent(
                at(arrive + 6 * HOUR), "Exception", "Exception_004", "Port congestion: awaiting berth", dest
            )
        )
    if customs_exception:
        events.append(
            TrackingEvent(at(arrive + 12 * HOUR), "Exception", "Exception_007", "Held by customs", dest)
        )
    if held:
        events.append(
            TrackingEvent(
                at(arrive + 18 * HOUR), "Exception", "Exception_002", "Delayed: carrier backlog", dest
            )
        )
    events.append(TrackingEvent(at(cleared), "InTransit", "InTransit_007", "Customs cleared", dest))
    events.append(
        TrackingEvent(
            out_for_delivery, "OutForDelivery", "OutForDelivery_001", "Out for delivery", location_city
        )
    )
    if failed:
        events.append(
            TrackingEvent(
                out_for_delivery + 5 * 3_600,
                "AttemptFail",
                "AttemptFail_001",
                "Recipient not home",
                location_city,
            )
        )
        out_for_delivery += 86_400
        events.append(
            TrackingEvent(
                out_for_delivery, "OutForDelivery", "OutForDelivery_001", "Out for delivery", location_city
            )
        )
    delivered = out_for_delivery + int((1 + 7 * u[13]) * HOUR)
    events.append(TrackingEvent(delivered, "Delivered", "Delivered_001", "Delivered", location_city))
    return events, delivered, (festival, congestion, exception, attempt)


def _clip(events: list[TrackingEvent], start: int) -> tuple[TrackingEvent, ...]:
    """Strictly increasing timestamps within the journey horizon (paging by time needs a total order)."""
    out: list[TrackingEvent] = []
    limit = start + int(MAX_JOURNEY_DAYS * DAY) - 1
    for event in sorted(events, key=lambda e: e.at):
        t = min(event.at, limit)
        if out and t <= out[-1].at:
            t = out[-1].at + 1
        out.append(TrackingEvent(t, event.tag, event.subtag, event.message, event.location))
    return tuple(out)


N_UNIFORMS = 16
CITIES = {
    "US": ("Los Angeles, US", "Dallas, US", "Chicago, US", "New York, US"),
    "UK": ("London, GB", "Leeds, GB"),
}


@lru_cache(maxsize=128)
def shipments_for_day(seed: int, day: date, profile_name: str = "small") -> tuple[Shipment, ...]:
    """Shipments of the orders purchased on ``day`` that were shipped; depends on no other day."""
    orders = [o for o in orders_for_day(seed, day, profile_name) if o.events[-1][1] == "Shipped"]
    rng = np.random.default_rng([seed, day.toordinal(), STREAM_SHIPMENTS])
    uniforms = rng.random((len(orders), N_UNIFORMS))
    out = []
    for order, u in zip(orders, uniforms, strict=True):
        mp = order.marketplace
        shop = _shop_for(order.items[0].asin, shops_of(seed, mp.marketplace_id, profile_name))
        if mp.country == "US":
            lane = LANES["CN-USW"] if u[14] < shop.usw_share else LANES["CN-USE"]
        else:
            lane = LANES["CN-UK"]
        carrier = lane.carriers[int(u[15] * len(lane.carriers))]
        cities = CITIES.get(mp.country, ("Unknown",))
        city = cities[zlib.crc32(order.buyer[0].encode()) % len(cities)]
        label_at = order.events[-1][0]
        held = order.trigger == CHURN_LATE_DELIVERY
        events, delivered, parts = _journey(label_at, lane, shop, u, city, held)
        events_t = _clip(events, label_at)
        delivered_at = events_t[-1].at if delivered is not None else None
        promised_day = _epoch_day(order.purchased_at) + timedelta(days=lane.promised_days)
        promised_at = int(
            datetime(
                promised_day.year, promised_day.month, promised_day.day, 23, 59, 59, tzinfo=UTC
            ).timestamp()
        )
        digits = order.order_id.replace("-", "")
        out.append(
            Shipment(
                shipment_id=f"SHP{digits}",
                tracking_number=f"{carrier[:2].upper()}{digits[3:]}{mp.country}",
                order_id=order.order_id,
                marketplace_id=mp.marketplace_id,
                shop_id=shop.shop_id,
                carrier=carrier,
                lane=lane,
                purchased_at=order.purchased_at,
                promised_at=promised_at,
                events=events_t,
                delivered_at=delivered_at,
                festival_delay_days=parts[0],
                congestion_delay_days=parts[1],
                exception_delay_days=parts[2],
                attempt_delay_days=parts[3],
            )
        )
    return tuple(out)


def _purchase_days(lo: int, hi: int) -> Iterable[date]:
    first = _epoch_day(lo) - timedelta(days=HORIZON_DAYS)
    last = _epoch_day(hi - 1)
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def shipments_touching(seed: int, lo: int, hi: int, profile_name: str = "small") -> Iterable[Shipment]:
    """Every shipment with at least one tracking event in [lo, hi) epoch seconds."""
    for day in _purchase_days(lo, hi):
        for shipment in shipments_for_day(seed, day, profile_name):
            if shipment.events[0].at < hi and shipment.events[-1].at >= lo:
                yield shipment


def shipment_versions(seed: int, start: datetime, end: datetime, profile_name: str = "small") -> list[dict]:
    """What the shipments API serves for [start, end): each shipment that changed, as of its latest change.

    Sorted by (updated_at, shipment_id) so pages are stable; a parcel reappears in later windows as it
    moves (late-arriving updates).
    """
    lo, hi = int(start.timestamp()), int(end.timestamp())
    versions = []
    for shipment in shipments_touching(seed, lo, hi, profile_name):
        latest = max(i for i, e in enumerate(shipment.events) if e.at < hi)
        if shipment.events[latest].at >= lo:
            versions.append((shipment.events[latest].at, shipment.shipment_id, shipment, latest))
    versions.sort(key=lambda v: (v[0], v[1]))
    return [s.record(i) for _t, _id, s, i in versions]


def tracking_events(seed: int, start: datetime, end: datetime, profile_name: str = "small") -> list[dict]:
    """Every tracking event that happened in [start, end), sorted by (event_at, event_id)."""
    lo, hi = int(start.timestamp()), int(end.timestamp())
    found = []
    for shipment in shipments_touching(seed, lo, hi, profile_name):
        for index, event in enumerate(shipment.events):
            if lo <= event.at < hi:
                found.append((event.at, shipment.tracking_number, index, shipment))
    found.sort(key=lambda f: (f[0], f[1], f[2]))
    return [s.event_record(i) for _t, _n, i, s in found]
