"""The point-in-time guard: a feature that changes when the history after the snapshot is removed leaked.

Each model builds its features with a function of (history, snapshot). The guard builds them twice — from
the history it was given and from that history cut at the snapshot — and fails loudly, naming the features
and an example row, when any value differs. A feature definition that peeks at later days cannot pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd


class LeakError(RuntimeError):
    """A training-set feature depends on data observed after its snapshot."""


def find_leaks(full: pd.DataFrame, cut: pd.DataFrame, columns: list[str]) -> dict[str, object]:
    """Columns whose values differ between the two builds, each with the first differing row key."""
    if not full.index.equals(cut.index):
        extra = full.index.difference(cut.index)
        return {"<rows>": extra[0] if len(extra) else cut.index.difference(full.index)[0]}
    leaks: dict[str, object] = {}
    for column in columns:
        a, b = full[column].to_numpy(dtype=float), cut[column].to_numpy(dtype=float)
        same = np.isclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)
        if not same.all():
            leaks[column] = full.index[int(np.flatnonzero(~same)[0])]
    return leaks


def guarded_features(
    build: Callable[[pd.DataFrame, date], pd.DataFrame],
    history: pd.DataFrame,
    snapshot: date,
    columns: list[str],
    day_column: str,
    what: str,
) -> pd.DataFrame:
    """``build(history, snapshot)``, checked against ``build(history cut at snapshot, snapshot)``.

    ``history[day_column]`` is datetime64 (compared with the snapshot as a Timestamp).
    """
    full = build(history, snapshot)
    cut = build(history[history[day_column] <= pd.Timestamp(snapshot)], snapshot)
    leaks = find_leaks(full, cut, columns)
    if leaks:
        detail = "; ".join(f"{name} (e.g. row {key})" for name, key in leaks.items())
        raise LeakError(
            f"{what} at snapshot {snapshot}: features observed after the snapshot: {detail}. "
            f"They change when rows with {day_column} > {snapshot} are removed."
        )
    return full
