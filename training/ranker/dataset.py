"""The ranker's point-in-time training set: guarded features at each snapshot joined with graded labels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from training.factory.leak import guarded_features
from training.ranker.features import FEATURE_COLUMNS, GROUP, LOOKBACK_DAYS, asin_features, breakout_labels


def ranking_set(
    history: pd.DataFrame,
    snapshots: Sequence[date],
    horizon_days: int,
    grade_quantiles: tuple[float, ...],
    build=asin_features,
    features: Sequence[str] = FEATURE_COLUMNS,
) -> pd.DataFrame:
    """Rows of every snapshot, sorted so each (marketplace, category, snapshot) group is contiguous."""
    frames = []
    for snapshot in snapshots:
        first = pd.Timestamp(snapshot - timedelta(days=LOOKBACK_DAYS - 1))
        last = pd.Timestamp(snapshot + timedelta(days=horizon_days))
        window = history[(history["ds"] >= first) & (history["ds"] <= last)]
        rows = guarded_features(build, window, snapshot, list(features), "ds", "ranker training set")
        frames.append(
            rows.join(breakout_labels(window, snapshot, horizon_days, grade_quantiles), how="inner")
        )
    frame = pd.concat(frames).reset_index() if frames else pd.DataFrame()
    return frame.sort_values([*GROUP, "asin"], kind="stable").reset_index(drop=True)


def group_sizes(frame: pd.DataFrame) -> np.ndarray:
    """Rows per group in frame order (the frame is sorted by group)."""
    return frame.groupby(list(GROUP), sort=False).size().to_numpy()
