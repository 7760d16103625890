"""Point-in-time ASIN features and graded future-breakout labels from ``dws.dws_asin_daily``.

A feature at snapshot S uses only days ``ds <= S`` (the factory's leak guard recomputes every feature
from the history cut at S and fails on any difference); a label uses only days after S. One row per
(marketplace, category, snapshot, ASIN) with a snapshot on S; the group of a row is its
(marketplace, category, snapshot) — the peers the baseline's robust z-scores compare it with.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

FEATURE_SET_VERSION = "asin_breakout_features_v1"
KEY = ("marketplace_id", "category", "asin")
GROUP = ("marketplace_id", "category", "snapshot_date")
LOOKBACK_DAYS = 28  # the longest window a feature reads, S - 27 .. S

FEATURE_COLUMNS: tuple[str, ...] = (
    "log_bsr",
    "log_category_rank",
    "rank_trend_3d",
    "rank_trend_7d",
    "rank_trend_21d",
    "review_count_log",
    "review_velocity_7d",
    "review_velocity_prev_7d",
    "review_acceleration",
    "reviews_per_unit_7d",
    "units_7d",
    "units_growth_7d",
    "sessions_growth_7d",
    "price_change_7d",
    "price_vs_28d_max",
    "in_stock",
    "listing_rating",
    "days_listed_28d",
    "baseline_score",
    "baseline_rank_share",
)
HISTORY_COLUMNS = (
    "asin", "marketplace_id", "category", "ds", "units", "review_count", "bsr", "category_rank", "price",
    "is_in_stock", "sessions", "listing_rating", "baseline_score", "peer_rank", "peer_asins",
)  # fmt: skip


def _window(history: pd.DataFrame, snapshot: date, first: int, last: int) -> pd.DataFrame:
    """Rows with ``snapshot - first <= ds <= snapshot - last`` (days back, inclusive)."""
    lo, hi = pd.Timestamp(snapshot - timedelta(days=first)), pd.Timestamp(snapshot - timedelta(days=last))
    return history[(history["ds"] >= lo) & (history["ds"] <= hi)]


def _mean(history: pd.DataFrame, snapshot: date, first: int, last: int, column: str) -> pd.Series:
    return _window(history, snapshot, first, last).groupby(list(KEY))[column].mean()


def _sum(history: pd.DataFrame, snapshot: date, first: int, last: int, column: str) -> pd.Series:
    return _window(history, snapshot, first, last).groupby(list(KEY))[column].sum()


def _at(history: pd.DataFrame, day: date) -> pd.DataFrame:
    return history[history["ds"] == pd.Timestamp(day)].set_index(list(KEY))


def asin_features(history: pd.DataFrame, snapshot: date) -> pd.DataFrame:
    """Features of every ASIN with a snapshot on ``snapshot``; index (marketplace, category, asin).

    ``history`` holds dws_asin_daily rows (``HISTORY_COLUMNS``, days with a snapshot, ``ds`` as
    datetime64) joined with that day's ads_asin_breakout_baseline row (``baseline_score``, ``peer_rank``,
    ``peer_asins``).
    """
    today = _at(history, snapshot)
    week_ago = _at(history, snapshot - timedelta(days=7)).reindex(today.index)
    two_weeks_ago = _at(history, snapshot - timedelta(days=14)).reindex(today.index)
    history = history.assign(log_bsr=np.log(history["bsr"].astype(float)))
    out = pd.DataFrame(index=today.index)
    out["log_bsr"] = np.log(today["bsr"].astype(float))
    out["log_category_rank"] = np.log(today["category_rank"].astype(float))
    recent3 = _mean(history, snapshot, 2, 0, "log_bsr")
    recent7 = _mean(history, snapshot, 6, 0, "log_bsr")
    out["rank_trend_3d"] = _mean(history, snapshot, 6, 4, "log_bsr") - recent3
    out["rank_trend_7d"] = _mean(history, snapshot, 13, 7, "log_bsr") - recent7
    out["rank_trend_21d"] = _mean(history, snapshot, 27, 21, "log_bsr") - recent7
    reviews = today["review_count"].astype(float)
    out["review_count_log"] = np.log1p(reviews)
    velocity = reviews - week_ago["review_count"].astype(float)
    previous = week_ago["review_count"].astype(float) - two_weeks_ago["review_count"].astype(float)
    out["review_velocity_7d"] = velocity
    out["review_velocity_prev_7d"] = previous
    out["review_acceleration"] = np.log1p(velocity.clip(lower=0)) - np.log1p(previous.clip(lower=0))
    units7 = _sum(history, snapshot, 6, 0, "units").reindex(today.index).astype(float)
    units_prev = _sum(history, snapshot, 13, 7, "units").reindex(today.index).astype(float)
    out["reviews_per_unit_7d"] = velocity / (units7 + 1.0)
    out["units_7d"] = units7
    out["units_growth_7d"] = np.log1p(units7) - np.log1p(units_prev)
    sessions7 = _sum(history, snapshot, 6, 0, "sessions").reindex(today.index).astype(float)
    sessions_prev = _sum(history, snapshot, 13, 7, "sessions").reindex(today.index).astype(float)
    out["sessions_growth_7d"] = np.log1p(sessions7) - np.log1p(sessions_prev)
    price = today["price"].astype(float)
    out["price_change_7d"] = price / week_ago["price"].astype(float) - 1.0
    max_price = _window(history, snapshot, 27, 0).groupby(list(KEY))["price"].max().astype(float)
    out["price_vs_28d_max"] = price / max_price.reindex(today.index) - 1.0
    out["in_stock"] = today["is_in_stock"].astype(float)
    out["listing_rating"] = today["listing_rating"].astype(float)
    out["days_listed_28d"] = (
        _window(history, snapshot, 27, 0).groupby(list(KEY))["ds"].count().reindex(today.index).astype(float)
    )
    out["baseline_score"] = today["baseline_score"].astype(float)
    out["baseline_rank_share"] = today["peer_rank"].astype(float) / today["peer_asins"].astype(float)
    out = out.astype("float64").sort_index()
    out.insert(0, "snapshot_date", snapshot)
    return out


def breakout_labels(
    history: pd.DataFrame, snapshot: date, horizon_days: int, grade_quantiles: tuple[float, ...]
) -> pd.DataFrame:
    """``future_rank_gain`` (mean log BSR over S-6..S minus over the horizon's last week) and its grade.

    Grades are quantiles within the group: 0 below ``grade_quantiles[0]``, k when above the k-th one.
    Rows whose horizon has no snapshot get no label (NaN) and are dropped from training and evaluation.
    """
    # out-of-stock days are left out: coming back into stock is not a breakout
    history = history[history["is_in_stock"].astype(bool)]
    history = history.assign(log_bsr=np.log(history["bsr"].astype(float)))
    now = _mean(history, snapshot, 6, 0, "log_bsr")
    end = snapshot + timedelta(days=horizon_days)
    later = _mean(history, end, 6, 0, "log_bsr")
    gain = (now - later).rename("future_rank_gain").dropna().to_frame()
    pct = gain.groupby(level=["marketplace_id", "category"])["future_rank_gain"].rank(pct=True)
    gain["label"] = np.searchsorted(np.asarray(grade_quantiles), pct.to_numpy(), side="left").astype(int)
    return gain
