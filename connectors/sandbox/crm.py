"""CRM campaign exposures with randomised assignment and a known, heterogeneous treatment effect.

Each calendar month runs one win-back experiment: an audience (half of the customers acquired at least 30
days before it) is split by ``abtest``'s TrafficSplitter into ``control`` (not sent) and ``coupon`` (sent by
email or SMS on the 5th-7th). The effect of the coupon on 14-day repurchase depends on customer features:
it is largest for customers with moderate latent purchase rate who would not buy anyway, larger for new
customers and by SMS, zero for those who dropped out long ago, and negative for the most frequent buyers
(coupon fatigue). Potential outcomes are drawn with shared uniforms, so the realised outcomes and the
per-customer CATE recorded here are an exact oracle for uplift models and A/B analyses.

The outcomes exist only in this truth: the orders feed does not (yet) contain the incremental orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from abtest.config import Experiment, Variant
from abtest.splitter import TrafficSplitter
from connectors.sandbox import calendar
from connectors.sandbox.population import customers
from connectors.sandbox.profiles import get_profile

STREAM_CRM = 51
SEND_DAY_OF_MONTH = 5
SEND_WINDOW_DAYS = 3
MIN_TENURE_DAYS = 30
AUDIENCE_SHARE = 0.5
OUTCOME_DAYS = 14
BASE_DAILY_REPURCHASE = 0.015  # per unit of latent purchase rate, for the promoted range
CHANNEL_COST = {"email": 0.003, "sms": 0.045}
CHANNEL_EFFECT = {"email": 0.8, "sms": 1.25}
EMAIL_SHARE = 0.6
BASKET_SIGMA = 0.7  # lognormal basket value around 35 USD
BASKET_LIFT = 1.05  # treated buyers add to their basket (cross-sell beats the discount)
CONTROL, TREATMENT = "control", "coupon"


@dataclass(frozen=True)
class CrmExperiment:
    name: str
    send_start: date

    @property
    def send_end(self) -> date:
        """Last send day (inclusive)."""
        return self.send_start + timedelta(days=SEND_WINDOW_DAYS - 1)

    def definition(self, seed: int) -> Experiment:
        salt = f"{self.name}-s{seed}"
        return Experiment(self.name, salt, (Variant(CONTROL), Variant(TREATMENT)))


def experiments() -> tuple[CrmExperiment, ...]:
    """One win-back experiment per calendar month."""
    out, day = [], calendar.CALENDAR_START
    while day <= calendar.CALENDAR_END:
        out.append(CrmExperiment(f"crm_winback_{day:%Y_%m}", day.replace(day=SEND_DAY_OF_MONTH)))
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return tuple(out)


def experiment_named(name: str) -> CrmExperiment:
    for exp in experiments():
        if exp.name == name:
            return exp
    raise KeyError(f"unknown CRM experiment {name!r}")


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


@lru_cache(maxsize=32)
def experiment_units(seed: int, name: str, profile_name: str = "small") -> pd.DataFrame:
    """Every assigned customer of one experiment: exposure fields, features and potential outcomes."""
    exp = experiment_named(name)
    profile = get_profile(profile_name)
    people = customers(seed, profile_name)
    index = experiments().index(exp)
    rng = np.random.default_rng([seed, index + 1, STREAM_CRM])
    n = len(people.buyer_id)
    u_audience, u_day, u_time, u_channel, u_outcome = rng.random((5, n))
    z_basket = rng.standard_normal(n)
    start = exp.send_start.toordinal()
    eligible = people.acquired_ord <= start - MIN_TENURE_DAYS
    chosen = np.flatnonzero(eligible & (u_audience < AUDIENCE_SHARE))

    rate = people.purchase_rate[chosen]
    send_ord = start + (u_day[chosen] * SEND_WINDOW_DAYS).astype(np.int64)
    tenure = send_ord - people.acquired_ord[chosen]
    days_alive = np.clip(people.drops_out_ord[chosen] - send_ord, 0, OUTCOME_DAYS)
    channel = np.where(u_channel[chosen] < EMAIL_SHARE, "email", "sms")

    p0 = 1.0 - np.exp(-BASE_DAILY_REPURCHASE * rate * days_alive)
    alive = days_alive > 0
    persuadable = 0.12 * rate / (rate + 0.7) * (1.0 - p0)
    persuadable *= np.where(channel == "sms", CHANNEL_EFFECT["sms"], CHANNEL_EFFECT["email"])
    persuadable *= np.where(tenure < 180, 1.5, 1.0)
    fatigue = np.where(rate > 2.5, 0.04, 0.0)
    winback = 0.02 * rate / (rate + 1.0)
    p1 = np.clip(p0 + np.where(alive, persuadable - fatigue, winback), 0.0, 1.0)

    mp_idx = people.marketplace_idx[chosen]
    price = np.array([mp.price_factor for mp in profile.marketplaces])[mp_idx]
    mu = np.log(35.0 * price)
    basket = np.exp(mu + BASKET_SIGMA * z_basket[chosen])
    mean_basket = np.exp(mu + BASKET_SIGMA**2 / 2)
    y0 = u_outcome[chosen] < p0
    y1 = u_outcome[chosen] < p1

    buyer_ids = [people.buyer_id[i] for i in chosen]
    assignment = TrafficSplitter(exp.definition(seed)).assign_many(buyer_ids)
    variant = assignment["variant"].to_numpy(dtype=object)
    treated = variant == TREATMENT
    sent_at = np.array([_epoch(date.fromordinal(int(o))) for o in send_ord]) + (
        9 * 3_600 + u_time[chosen] * 12 * 3_600
    ).astype(np.int64)
    currencies = np.array([mp.currency for mp in profile.marketplaces])[mp_idx]
    marketplaces = np.array([mp.marketplace_id for mp in profile.marketplaces])[mp_idx]
    frame = pd.DataFrame(
        {
            "experiment": exp.name,
            "customer_id": buyer_ids,
            "variant": variant,
            "marketplace_id": marketplaces,
            "currency": currencies,
            "channel": channel,
            "is_sent": treated,
            "touch_cost": np.where(treated, np.vectorize(CHANNEL_COST.get)(channel), 0.0),
            "sent_at": sent_at,
            "purchase_rate": rate,
            "tenure_days": tenure,
            "is_alive": alive,
            "p_repurchase_control": p0,
            "p_repurchase_treated": p1,
            "cate_repurchase": p1 - p0,
            "cate_gmv": (p1 * BASKET_LIFT - p0) * mean_basket,
            "repurchase_control": y0.astype(np.int64),
            "repurchase_treated": y1.astype(np.int64),
            "gmv_control": np.where(y0, basket, 0.0),
            "gmv_treated": np.where(y1, basket * BASKET_LIFT, 0.0),
        }
    )
    frame["repurchased_14d"] = np.where(treated, frame["repurchase_treated"], frame["repurchase_control"])
    frame["gmv_14d"] = np.where(treated, frame["gmv_treated"], frame["gmv_control"])
    return frame.sort_values(["sent_at", "customer_id"], kind="stable").reset_index(drop=True)


def exposure_record(row: dict) -> dict:
    """The CRM export's view of one unit: no features, no outcomes."""
    return {
        "exposure_id": f"{row['experiment']}:{row['customer_id']}",
        "experiment": row["experiment"],
        "variant": row["variant"],
        "customer_id": row["customer_id"],
        "marketplace_id": row["marketplace_id"],
        "channel": row["channel"],
        "is_sent": bool(row["is_sent"]),
        "touch_cost": round(float(row["touch_cost"]), 4),
        "currency": row["currency"],
        "sent_at": datetime.fromtimestamp(int(row["sent_at"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


EXPOSURE_COLUMNS = (
    "experiment", "customer_id", "variant", "marketplace_id", "channel", "is_sent", "touch_cost", "currency",
    "sent_at",
)  # fmt: skip


def exposures(seed: int, start: datetime, end: datetime, profile_name: str = "small") -> list[dict]:
    """Exposures with ``sent_at`` in [start, end), sorted by (sent_at, customer_id)."""
    lo, hi = int(start.timestamp()), int(end.timestamp())
    out: list[dict] = []
    for exp in experiments():
        if _epoch(exp.send_end + timedelta(days=1)) <= lo or _epoch(exp.send_start) >= hi:
            continue
        units = experiment_units(seed, exp.name, profile_name)
        window = units[(units["sent_at"] >= lo) & (units["sent_at"] < hi)]
        out.extend(exposure_record(row) for row in window[list(EXPOSURE_COLUMNS)].to_dict("records"))
    out.sort(key=lambda r: (r["sent_at"], r["customer_id"]))
    return out
