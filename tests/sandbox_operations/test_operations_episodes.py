"""The latent episodes leave measurable, correctly attributed traces in the served operations data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from connectors.sandbox import ads, calendar, logistics, shop_health
from connectors.sandbox.truth_operations import ads_runaway_truth, shipment_truth, shop_health_truth

SEED = 42


def _served_delay_days(first: date, last: date) -> pd.DataFrame:
    """Delay computed the way a warehouse would: from the served final record (delivered vs promised)."""
    rows = []
    for day in calendar.calendar_days(first, last):
        for s in logistics.shipments_for_day(SEED, day):
            record = s.record(len(s.events) - 1)
            if record["delivered_at"] is None:
                continue
            delivered = datetime.fromisoformat(record["delivered_at"].replace("Z", "+00:00"))
            promised = datetime.fromisoformat(record["promised_delivery_at"].replace("Z", "+00:00"))
            rows.append({"lane": record["lane"], "delay": (delivered - promised).total_seconds() / 86_400})
    return pd.DataFrame(rows)


def test_spring_festival_shipments_arrive_later_for_the_recorded_reason() -> None:
    festival = _served_delay_days(date(2026, 2, 12), date(2026, 2, 16))
    baseline = _served_delay_days(date(2026, 4, 6), date(2026, 4, 10))
    assert festival["delay"].mean() > baseline["delay"].mean() + 3.0
    assert (festival["delay"] > 0).mean() > 0.5 > 0.15 > (baseline["delay"] > 0).mean()
    truth = shipment_truth(SEED, date(2026, 2, 12), date(2026, 2, 16))
    late = truth[truth["is_late"]]
    assert (late["cause"] == calendar.EPISODE_SPRING_FESTIVAL).mean() > 0.9
    calm = shipment_truth(SEED, date(2026, 4, 6), date(2026, 4, 10))
    assert not calm["cause"].isin(list(calendar.episodes_on(calendar.SPRING_FESTIVAL_PEAK))).any()


def test_only_the_congested_lane_slows_down_during_port_congestion() -> None:
    during = _served_delay_days(date(2025, 8, 10), date(2025, 8, 18)).groupby("lane")["delay"].mean()
    before = _served_delay_days(date(2025, 5, 10), date(2025, 5, 18)).groupby("lane")["delay"].mean()
    assert during[calendar.CONGESTED_LANE] > before[calendar.CONGESTED_LANE] + 5.0
    for lane in ("CN-USE", "CN-UK"):
        assert abs(during[lane] - before[lane]) < 0.5
    truth = shipment_truth(SEED, date(2025, 8, 10), date(2025, 8, 18))
    late_on_lane = truth[truth["is_late"] & (truth["lane"] == calendar.CONGESTED_LANE)]
    assert (late_on_lane["cause"] == calendar.EPISODE_PORT_CONGESTION).mean() > 0.9
    assert not (
        truth[truth["lane"] != calendar.CONGESTED_LANE]["cause"] == calendar.EPISODE_PORT_CONGESTION
    ).any()


def test_shops_cross_the_sps_red_line_only_during_episodes_and_for_them() -> None:
    truth = shop_health_truth(SEED, calendar.CALENDAR_START, calendar.CALENDAR_END)
    red = truth[truth["below_red_line"]]
    assert set(red["cause"]) == {calendar.EPISODE_SPRING_FESTIVAL, calendar.EPISODE_PORT_CONGESTION}
    lag = timedelta(days=shop_health.REVIEW_LAG_DAYS[1] + 7)
    in_festival = red["date"].between(calendar.SPRING_FESTIVAL_START, calendar.SPRING_FESTIVAL_END + lag)
    in_congestion = red["date"].between(calendar.PORT_CONGESTION_START, calendar.PORT_CONGESTION_END + lag)
    assert (in_festival | in_congestion).all()
    assert (red.loc[in_festival, "cause"] == calendar.EPISODE_SPRING_FESTIVAL).all()
    assert (red.loc[in_congestion, "cause"] == calendar.EPISODE_PORT_CONGESTION).all()
    # Congestion only reaches US shops (the lane is CN -> US West); the festival reaches both countries.
    assert set(red.loc[in_congestion, "marketplace_id"]) == {"ATVPDKIKX0DER"}
    assert red.loc[in_festival, "marketplace_id"].nunique() == 2
    # Not every shop crosses: exposure decides, so some shops stay green through each episode.
    assert red["shop_id"].nunique() < truth["shop_id"].nunique()
    calm = truth[~truth["date"].isin(set(red["date"]))]
    assert calm["sps_score"].min() > 3.5
    # The served record carries exactly the SPS the truth judges.
    served = {r["shop_id"]: r for r in shop_health.shop_health_records(SEED, date(2026, 2, 20))}
    day = truth[truth["date"] == date(2026, 2, 20)]
    assert all(served[row.shop_id]["sps_score"] == row.sps_score for row in day.itertuples())


def _hours(campaign_id: str, lo: int, hi: int) -> list[tuple[int, dict]]:
    out = []
    day = datetime.fromtimestamp(lo, UTC).date()
    while int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) < hi:
        for row in ads.campaign_hours(SEED, day):
            at = int(datetime.fromisoformat(row["stat_time_hour"].replace("Z", "+00:00")).timestamp())
            if row["campaign_id"] == campaign_id and lo <= at < hi:
                out.append((at, row))
        day += timedelta(days=1)
    return out


def test_runaway_episodes_raise_spend_velocity_and_cut_roas() -> None:
    """Against the same hours of the trailing week: spend per hour up, ROAS down, for every episode."""
    episodes = ads_runaway_truth(SEED)
    assert len(episodes) > 50 and (episodes["end_at"] > episodes["start_at"]).all()
    window = [
        e
        for e in ads.runaway_episodes(SEED)
        if date(2025, 3, 1) <= datetime.fromtimestamp(e.start_at, UTC).date() < date(2025, 7, 1)
    ]
    assert len(window) >= 20
    velocity, roas = [], []
    for e in window:
        during = _hours(e.campaign_id, e.start_at, e.end_at)
        hours_of_day = {datetime.fromtimestamp(at, UTC).hour for at, _ in during}
        trailing = [
            (at, r)
            for at, r in _hours(e.campaign_id, e.start_at - 7 * 86_400, e.start_at)
            if datetime.fromtimestamp(at, UTC).hour in hours_of_day
        ]
        velocity.append(np.mean([r["spend"] for _, r in during]) / np.mean([r["spend"] for _, r in trailing]))
        roas_during = sum(r["gmv"] for _, r in during) / sum(r["spend"] for _, r in during)
        roas_trailing = sum(r["gmv"] for _, r in trailing) / sum(r["spend"] for _, r in trailing)
        roas.append(roas_during / roas_trailing)
    assert min(velocity) > 1.8
    assert max(roas) < 0.7 and np.median(roas) < 0.4


def test_spend_spikes_outside_episodes_are_rare() -> None:
    """Noise alone does not look like a runaway: hour-on-hour-of-yesterday spend ratios stay small."""
    covered = {
        (e.campaign_id, at) for e in ads.runaway_episodes(SEED) for at in range(e.start_at, e.end_at, 3_600)
    }
    today = {
        (r["campaign_id"], r["stat_time_hour"][11:13]): r for r in ads.campaign_hours(SEED, date(2025, 5, 14))
    }
    yesterday = {
        (r["campaign_id"], r["stat_time_hour"][11:13]): r for r in ads.campaign_hours(SEED, date(2025, 5, 13))
    }
    start = int(datetime(2025, 5, 13, tzinfo=UTC).timestamp())
    ratios = [
        today[key]["spend"] / yesterday[key]["spend"]
        for key in today
        if (key[0], start + int(key[1]) * 3_600) not in covered
        and (key[0], start + 86_400 + int(key[1]) * 3_600) not in covered
        and yesterday[key]["spend"] > 0
    ]
    assert len(ratios) > 300
    assert np.mean(np.array(ratios) > 1.8) < 0.02
