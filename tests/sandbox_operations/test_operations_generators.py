"""Operations generators are deterministic from (seed, day) and a day alone equals that day in a range."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import orjson

from connectors.sandbox import ads, calendar, crm, logistics, shop_health
from connectors.sandbox.asin_metrics import snapshots_for_day

SEED = 42
DAY = date(2026, 2, 18)
# sha256 of campaign_hours(SEED, DAY) without the advertised ``asin``, pinned before the ASIN was added:
# the ASIN has its own random stream, so spend, delivery, GMV and episodes did not move.
CAMPAIGN_HOURS_SHA256 = "e0845d8d0b1f1cf905db40344b4c2ae58d6f44f7b8de91ece5c5663287071136"


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _clear_caches() -> None:
    for fn in (logistics.shipments_for_day, shop_health.shop_days, ads.campaign_hours, crm.experiment_units):
        fn.cache_clear()


def test_calendar_episodes_are_where_the_design_puts_them() -> None:
    assert calendar.spring_festival_intensity(calendar.SPRING_FESTIVAL_PEAK) == 1.0
    assert calendar.spring_festival_intensity(date(2026, 2, 9)) == 0.0
    assert calendar.spring_festival_intensity(date(2026, 3, 4)) == 0.0
    assert calendar.spring_festival_intensity(date(2026, 3, 3)) > 0.0
    assert calendar.port_congestion_intensity(date(2025, 8, 20), "CN-USW") == 1.0
    assert calendar.port_congestion_intensity(date(2025, 8, 20), "CN-USE") == 0.0
    assert calendar.port_congestion_intensity(date(2025, 10, 1), "CN-USW") == 0.0
    assert calendar.demand_factor(date(2025, 11, 28)) == 1.5 > calendar.demand_factor(date(2025, 5, 1))
    assert (
        calendar.carrier_capacity(calendar.SPRING_FESTIVAL_PEAK)
        < 0.5
        < calendar.carrier_capacity(DAY + timedelta(30))
    )
    assert calendar.episodes_on(date(2025, 8, 20)) == (calendar.EPISODE_PORT_CONGESTION,)
    assert len(calendar.calendar_days()) == 546


def test_day_alone_equals_day_after_its_predecessors() -> None:
    """Generate D cold, then D-3..D in order with caches cleared: byte-identical records."""
    _clear_caches()
    alone = (
        orjson.dumps([s.record(len(s.events) - 1) for s in logistics.shipments_for_day(SEED, DAY)]),
        orjson.dumps([d.record() for d in shop_health.shop_days(SEED, DAY)]),
        orjson.dumps(ads.campaign_hours(SEED, DAY)),
    )
    _clear_caches()
    for back in (3, 2, 1, 0):
        day = DAY - timedelta(days=back)
        in_range = (
            orjson.dumps([s.record(len(s.events) - 1) for s in logistics.shipments_for_day(SEED, day)]),
            orjson.dumps([d.record() for d in shop_health.shop_days(SEED, day)]),
            orjson.dumps(ads.campaign_hours(SEED, day)),
        )
    assert in_range == alone
    assert len(logistics.shipments_for_day(SEED, DAY)) > 1_000
    assert len(ads.campaign_hours(SEED, DAY)) == 24 * len(ads.campaigns(SEED))


def test_every_campaign_advertises_one_asin_of_its_marketplace() -> None:
    """Each hour names its campaign's ASIN, listed in that marketplace; the other fields are unchanged."""
    hours = ads.campaign_hours(SEED, DAY)
    listed = {(s["marketplaceId"], s["asin"]) for s in snapshots_for_day(SEED, DAY)}
    by_campaign = {c.campaign_id: c for c in ads.campaigns(SEED)}
    assert {(r["campaign_id"], r["asin"]) for r in hours} == {(c, k.asin) for c, k in by_campaign.items()}
    assert all((r["marketplace_id"], r["asin"]) in listed for r in hours)
    for mp in {c.marketplace_id for c in by_campaign.values()}:
        mp_asins = [c.asin for c in by_campaign.values() if c.marketplace_id == mp]
        assert len(set(mp_asins)) == len(mp_asins) == ads.MIN_CAMPAIGNS_PER_MARKETPLACE
    without_asin = [{k: v for k, v in r.items() if k != "asin"} for r in hours]
    assert hashlib.sha256(orjson.dumps(without_asin)).hexdigest() == CAMPAIGN_HOURS_SHA256


def test_windowed_feeds_cut_a_range_into_its_days() -> None:
    """Tracking events and CRM exposures of one day are exactly that day's part of a three-day range."""
    first, last = _utc(date(2025, 6, 5)), _utc(date(2025, 6, 8))
    one_lo, one_hi = _utc(date(2025, 6, 6)), _utc(date(2025, 6, 7))
    events = logistics.tracking_events(SEED, first, last)
    day_events = logistics.tracking_events(SEED, one_lo, one_hi)
    cut = [e for e in events if "2025-06-06T" in e["event_at"]]
    assert day_events == cut and len(cut) > 5_000
    exposures = crm.exposures(SEED, first, last)
    day_exposures = crm.exposures(SEED, one_lo, one_hi)
    assert day_exposures == [e for e in exposures if e["sent_at"].startswith("2025-06-06")]
    assert 1_000 < len(day_exposures) < len(exposures)


def test_seed_changes_the_world_and_same_seed_repeats_it() -> None:
    a = logistics.shipments_for_day(SEED, DAY)
    _clear_caches()
    assert logistics.shipments_for_day(SEED, DAY) == a
    b = logistics.shipments_for_day(SEED + 1, DAY)
    assert [s.events for s in a[:50]] != [s.events for s in b[:50]]
    assert ads.campaign_hours(SEED, DAY) != ads.campaign_hours(SEED + 1, DAY)
    assert shop_health.shops(SEED) != shop_health.shops(SEED + 1)


def test_shipments_follow_the_orders_they_ship() -> None:
    """One shipment per shipped order, created at the order's Shipped time, events strictly ordered."""
    from connectors.sandbox.orders import orders_for_day

    shipped = {o.order_id: o for o in orders_for_day(SEED, DAY) if o.events[-1][1] == "Shipped"}
    shipments = logistics.shipments_for_day(SEED, DAY)
    assert {s.order_id for s in shipments} == set(shipped)
    assert len({s.shipment_id for s in shipments}) == len(shipments)
    for s in shipments:
        times = [e.at for e in s.events]
        assert times == sorted(set(times))
        assert s.events[0].at == shipped[s.order_id].events[-1][0]
        assert s.events[0].tag == "InfoReceived"
        assert s.events[-1].tag == ("Delivered" if s.delivered_at is not None else "Exception")
        assert times[-1] - times[0] < logistics.MAX_JOURNEY_DAYS * 86_400
