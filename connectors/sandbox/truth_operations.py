"""Ground truth behind the operations sources, for evaluation code only (never connectors or features).

Each function answers the question an operator model is judged on: why was this parcel late, which
shop-days are below the SPS red line and why, when did each runaway ad episode really start and end,
and what is each customer's true campaign effect (CATE) and the true average effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd

from connectors.sandbox import crm
from connectors.sandbox.ads import runaway_episodes
from connectors.sandbox.calendar import calendar_days
from connectors.sandbox.logistics import shipments_for_day
from connectors.sandbox.shop_health import shop_days


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shipment_truth(seed: int, first: date, last: date, profile_name: str = "small") -> pd.DataFrame:
    """One row per shipment of the orders purchased in [first, last]: true delay (days) and its cause."""
    rows = [
        {
            "shipment_id": s.shipment_id,
            "order_id": s.order_id,
            "shop_id": s.shop_id,
            "lane": s.lane.lane_id,
            "carrier": s.carrier,
            "label_at": _iso(s.events[0].at),
            "promised_at": _iso(s.promised_at),
            "delivered_at": _iso(s.delivered_at),
            "delay_days": s.delay_days,
            "is_late": s.delay_days is not None and s.delay_days > 0,
            "cause": s.cause,
            "festival_delay_days": s.festival_delay_days,
            "congestion_delay_days": s.congestion_delay_days,
            "exception_delay_days": s.exception_delay_days,
            "attempt_delay_days": s.attempt_delay_days,
        }
        for day in calendar_days(first, last)
        for s in shipments_for_day(seed, day, profile_name)
    ]
    return pd.DataFrame(rows)


def shop_health_truth(seed: int, first: date, last: date, profile_name: str = "small") -> pd.DataFrame:
    """One row per shop-day in [first, last]: the served SPS, whether it is below 3.5, and why."""
    rows = [
        {
            "shop_id": d.shop.shop_id,
            "marketplace_id": d.shop.marketplace_id,
            "date": d.day,
            "sps_score": d.sps_score,
            "below_red_line": d.below_red_line,
            "cause": d.cause,
            "sf_exposure": d.sf_exposure,
            "congestion_exposure": d.congestion_exposure,
            "sf_sensitivity": d.shop.sf_sensitivity,
            "usw_share": d.shop.usw_share,
        }
        for day in calendar_days(first, last)
        for d in shop_days(seed, day, profile_name)
    ]
    return pd.DataFrame(rows)


def ads_runaway_truth(seed: int, profile_name: str = "small") -> pd.DataFrame:
    """Every runaway-budget episode of the calendar with its true start and end (end exclusive)."""
    return pd.DataFrame(
        [
            {
                "campaign_id": e.campaign_id,
                "start_at": _iso(e.start_at),
                "end_at": _iso(e.end_at),
                "spend_multiplier": e.spend_multiplier,
                "cpc_multiplier": e.cpc_multiplier,
                "cvr_multiplier": e.cvr_multiplier,
            }
            for e in runaway_episodes(seed, profile_name)
        ]
    )


@dataclass(frozen=True)
class CrmTruth:
    """Per-customer oracle of one or more experiments and the true average effects over those units."""

    units: pd.DataFrame  # features, variant, CATE, potential and realised outcomes
    ate_repurchase: float
    ate_gmv: float


def crm_truth(seed: int, experiment: str | None = None, profile_name: str = "small") -> CrmTruth:
    """The CATE of every assigned customer (all experiments when ``experiment`` is None) and the true ATE."""
    names = [experiment] if experiment is not None else [e.name for e in crm.experiments()]
    units = pd.concat([crm.experiment_units(seed, name, profile_name) for name in names], ignore_index=True)
    return CrmTruth(
        units=units,
        ate_repurchase=float(units["cate_repurchase"].mean()),
        ate_gmv=float(units["cate_gmv"].mean()),
    )
