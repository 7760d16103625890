"""Multiple-testing corrections across the metrics (and arms) of one experiment.

Looking at ten metrics at alpha = 0.05 finds a "winner" 40% of the time by chance. Holm controls the
family-wise error rate (the chance of any false positive) and is never worse than Bonferroni;
Benjamini-Hochberg controls the false discovery rate and is the choice when many exploratory metrics
are read. Both return adjusted p-values to compare with alpha; NaNs are ignored and stay NaN.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Correction = Literal["holm", "bh", "none"]


def _valid(p_values: np.ndarray) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if ((p < 0) | (p > 1)).any():
        raise ValueError(f"p-values must lie in [0, 1], got {p.tolist()}")
    return p


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values: ``max_{j≤i} min(1, (m - j + 1) p_(j))``."""
    p = _valid(p_values)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok])
    ranked = p[ok][order] * (m - np.arange(m))
    adjusted = np.minimum(np.maximum.accumulate(ranked), 1.0)
    sub = np.empty(m)
    sub[order] = adjusted
    out[ok] = sub
    return out


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (q-values): ``min_{j≥i} min(1, m p_(j) / j)``."""
    p = _valid(p_values)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok])
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    sub = np.empty(m)
    sub[order] = adjusted
    out[ok] = sub
    return out


def adjust(p_values: np.ndarray, method: Correction) -> np.ndarray:
    """Dispatch by name: ``"holm"``, ``"bh"`` or ``"none"``."""
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    if method == "none":
        return _valid(p_values).copy()
    raise ValueError(f"unknown multiple-testing correction {method!r}; use 'holm', 'bh' or 'none'")
