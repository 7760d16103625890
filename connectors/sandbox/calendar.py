"""The sandbox's fixed calendar: when demand peaks and when logistics break, as plain functions of a date.

Every operations generator (logistics, shop health, ads, CRM) reads its seasonality from here, so the
episodes line up across sources the way they do in reality: the 2026 Spring Festival slows Chinese
warehouses and carriers at once, and the 2025 port congestion only hits the lane through LA/Long Beach.
Intensities are in [0, 1] with a ramp up and down, so effects build and fade instead of switching.
"""

from __future__ import annotations

from datetime import date, timedelta

CALENDAR_START = date(2025, 1, 1)
CALENDAR_END = date(2026, 6, 30)

Q4_PEAK_FACTOR = 1.5  # the same factor orders.season_factor applies to demand
Q4_DISPATCH_DAYS = 0.3

# Factories close around Chinese New Year (2026-02-17); carriers lose capacity before and after it.
SPRING_FESTIVAL_START = date(2026, 2, 10)
SPRING_FESTIVAL_END = date(2026, 3, 3)  # inclusive
SPRING_FESTIVAL_PEAK = date(2026, 2, 17)

# One lane suffers a port-congestion episode (vessels queueing at San Pedro Bay).
CONGESTED_LANE = "CN-USW"
PORT_CONGESTION_START = date(2025, 8, 4)
PORT_CONGESTION_END = date(2025, 9, 7)  # inclusive
PORT_CONGESTION_RAMP_DAYS = 7

EPISODE_SPRING_FESTIVAL = "spring_festival"
EPISODE_PORT_CONGESTION = "port_congestion"


def in_calendar(day: date) -> bool:
    """Whether the sandbox serves this day at all."""
    return CALENDAR_START <= day <= CALENDAR_END


def calendar_days(first: date = CALENDAR_START, last: date = CALENDAR_END) -> list[date]:
    """Every day of [first, last], inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def is_q4_peak(day: date) -> bool:
    """November and December: Black Friday, Cyber Monday, Christmas."""
    return day.month in (11, 12)


def demand_factor(day: date) -> float:
    """Demand relative to a normal day (the Q4 peak sells 1.5x; the Spring Festival dips 15% at its peak)."""
    factor = Q4_PEAK_FACTOR if is_q4_peak(day) else 1.0
    return factor * (1.0 - 0.15 * spring_festival_intensity(day))


def _triangle(day: date, start: date, peak: date, end: date) -> float:
    """0 outside [start, end], 1 at peak, linear in between."""
    if day < start or day > end:
        return 0.0
    if day <= peak:
        span = max((peak - start).days, 1)
        return 0.3 + 0.7 * (day - start).days / span
    span = max((end - peak).days, 1)
    return 0.3 + 0.7 * (end - day).days / span


def spring_festival_intensity(day: date) -> float:
    """How hard the Spring Festival bites on ``day``: 0 outside 2026-02-10..2026-03-03, 1 at New Year."""
    return _triangle(day, SPRING_FESTIVAL_START, SPRING_FESTIVAL_PEAK, SPRING_FESTIVAL_END)


def port_congestion_intensity(day: date, lane: str = CONGESTED_LANE) -> float:
    """Congestion on ``lane`` (0 on every other lane): a plateau with week-long ramps at both ends."""
    if lane != CONGESTED_LANE or day < PORT_CONGESTION_START or day > PORT_CONGESTION_END:
        return 0.0
    from_start = (day - PORT_CONGESTION_START).days + 1
    to_end = (PORT_CONGESTION_END - day).days + 1
    return min(1.0, from_start / PORT_CONGESTION_RAMP_DAYS, to_end / PORT_CONGESTION_RAMP_DAYS)


def carrier_capacity(day: date) -> float:
    """Share of normal first-mile carrier capacity available (drops to 40% at Chinese New Year)."""
    return 1.0 - 0.6 * spring_festival_intensity(day)


def festival_dispatch_delay_days(day: date) -> float:
    """Expected extra days between label and carrier pickup because warehouse staff are on holiday."""
    return 4.0 * spring_festival_intensity(day)


def q4_dispatch_delay_days(day: date) -> float:
    """Expected extra pickup wait in the Q4 peak (busy warehouses, not an episode)."""
    return Q4_DISPATCH_DAYS if is_q4_peak(day) else 0.0


def dispatch_delay_days(day: date) -> float:
    """Expected extra days between label creation and carrier pickup, all causes."""
    return festival_dispatch_delay_days(day) + q4_dispatch_delay_days(day)


def port_delay_days(day: date, lane: str) -> float:
    """Expected extra days a shipment on ``lane`` waits at the destination port."""
    return 9.0 * port_congestion_intensity(day, lane)


def episodes_on(day: date, lane: str | None = None) -> tuple[str, ...]:
    """Names of the logistics episodes active on ``day`` (on ``lane`` when given, else on any lane)."""
    active = []
    if spring_festival_intensity(day) > 0:
        active.append(EPISODE_SPRING_FESTIVAL)
    if port_congestion_intensity(day, lane or CONGESTED_LANE) > 0:
        active.append(EPISODE_PORT_CONGESTION)
    return tuple(active)
