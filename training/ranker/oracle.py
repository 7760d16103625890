"""The sandbox's oracle order: ASINs ranked by their true future breakout gain. Evaluation code only —
never a feature, never in scoring (DESIGN.md §5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from connectors.sandbox.products import breakout_grade, future_gain, products


def oracle_scores(frame: pd.DataFrame, seed: int, profile: str, horizon_days: int) -> np.ndarray:
    """True momentum gain over ``[S, S + horizon]`` of each row's ASIN (rows: asin, snapshot_date)."""
    p = products(seed, profile)
    index = {asin: i for i, asin in enumerate(p.asin)}
    rows = frame["asin"].map(index).to_numpy()
    out = np.empty(len(frame))
    for snapshot, positions in frame.groupby("snapshot_date").indices.items():
        out[positions] = future_gain(p, snapshot.toordinal(), horizon_days)[rows[positions]]
    return out


def true_grades(oracle: np.ndarray) -> np.ndarray:
    """The sandbox's own graded breakout (0-3) of each true gain: labels only the truth knows."""
    return breakout_grade(oracle)
