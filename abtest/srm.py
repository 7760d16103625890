"""Sample-ratio mismatch: did the variants receive the traffic shares they were configured with?

A mismatch means assignment or logging is broken (bots filtered from one arm, a redirect that loses
users, a crash in one variant), and then no metric comparison can be trusted. The check is a
chi-square goodness-of-fit test; the alarm threshold is p < 0.001 because the check runs on every
experiment every day and false alarms must stay rare.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from abtest.stats import ArrayLike, _out

SRM_THRESHOLD = 0.001


def srm_p_value(counts: ArrayLike, shares: ArrayLike) -> ArrayLike:
    """Chi-square goodness-of-fit p-value of counts (last axis = variants) against expected shares."""
    counts = np.asarray(counts, dtype=float)
    shares = np.asarray(shares, dtype=float)
    shares = shares / shares.sum()
    expected = counts.sum(axis=-1, keepdims=True) * shares
    chi2 = ((counts - expected) ** 2 / expected).sum(axis=-1)
    return _out(sps.chi2.sf(chi2, df=counts.shape[-1] - 1))


@dataclass(frozen=True)
class SrmResult:
    """Outcome of the check; ``flagged`` blocks any verdict on the experiment."""

    experiment: str
    observed: Mapping[str, int]
    expected_shares: Mapping[str, float]
    chi2: float
    p_value: float
    threshold: float
    flagged: bool

    @property
    def message(self) -> str:
        parts = ", ".join(
            f"{v} {self.observed[v]:,} ({self.observed[v] / sum(self.observed.values()):.2%} vs "
            f"{self.expected_shares[v]:.2%} expected)"
            for v in self.expected_shares
        )
        if self.flagged:
            return (
                f"SAMPLE RATIO MISMATCH in {self.experiment}: p = {self.p_value:.2g} < {self.threshold:g}; "
                f"{parts}. Assignment or exposure logging is broken; do not read the metrics."
            )
        return f"sample ratio OK (p = {self.p_value:.3g}): {parts}"


def srm_check(
    observed: Mapping[str, int],
    expected_shares: Mapping[str, float],
    *,
    threshold: float = SRM_THRESHOLD,
    experiment: str = "experiment",
) -> SrmResult:
    """Check observed units per variant against the configured shares (weights are normalised)."""
    unknown = sorted(set(observed) - set(expected_shares))
    if unknown:
        raise ValueError(f"{experiment}: variants {unknown} were observed but have no expected share")
    if any(float(s) <= 0 for s in expected_shares.values()):
        raise ValueError(f"{experiment}: every expected share must be > 0, got {dict(expected_shares)}")
    names = list(expected_shares)
    counts = np.array([int(observed.get(v, 0)) for v in names], dtype=float)
    if (counts < 0).any():
        raise ValueError(f"{experiment}: negative unit counts {dict(observed)}")
    if counts.sum() == 0:
        raise ValueError(f"{experiment}: zero exposures in every variant; nothing to check")
    total_share = sum(float(s) for s in expected_shares.values())
    shares = {v: float(expected_shares[v]) / total_share for v in names}
    expected = counts.sum() * np.array([shares[v] for v in names])
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    p = float(sps.chi2.sf(chi2, df=len(names) - 1))
    return SrmResult(
        experiment=experiment,
        observed={v: int(c) for v, c in zip(names, counts, strict=True)},
        expected_shares=shares,
        chi2=chi2,
        p_value=p,
        threshold=threshold,
        flagged=p < threshold,
    )
