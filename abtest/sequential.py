"""Always-valid inference for teams that look at an experiment every day.

A fixed-horizon 95% interval checked daily for a month excludes zero in an A/A test far more often
than 5% of the time. The mixture sequential probability ratio test (mSPRT; Johari, Pekelis & Walsh,
"Always valid inference", 2017) with a normal mixture N(0, τ²) over the effect gives, for an estimate
``θ̂`` with variance ``V``:

    Λ(θ₀) = sqrt(V / (V + τ²)) · exp(τ² (θ̂ - θ₀)² / (2 V (V + τ²)))

Rejecting when Λ ≥ 1/alpha keeps the type-I error ≤ alpha at *any* stopping time. Inverting it gives a
confidence sequence (intervals valid simultaneously over all looks), and ``p = min over looks of
1/Λ(0)`` is an always-valid p-value. τ is the spread of effects you expect; it changes power, not
validity, and must be fixed before the experiment starts (here as a share of the control mean).
The normal approximation with estimated variances makes the guarantee asymptotic, like the t-test's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abtest.stats import ArrayLike, _out


@dataclass(frozen=True)
class SequentialConfig:
    """Always-valid option: ``tau_relative`` is the expected effect size as a share of the control mean.

    The error rate is the analysis' ``alpha``; intervals become confidence sequences at that level.
    """

    tau_relative: float = 0.05

    def __post_init__(self) -> None:
        if not self.tau_relative > 0:
            raise ValueError(f"sequential tau_relative must be > 0, got {self.tau_relative}")


def msprt_log_lr(diff: ArrayLike, var: ArrayLike, tau2: ArrayLike, theta0: ArrayLike = 0.0) -> ArrayLike:
    """log Λ of the normal-mixture SPRT for H0: effect = θ₀."""
    diff, var, tau2 = np.asarray(diff, float), np.asarray(var, float), np.asarray(tau2, float)
    return _out(0.5 * np.log(var / (var + tau2)) + tau2 * (diff - theta0) ** 2 / (2 * var * (var + tau2)))


def always_valid_p_value(
    diff: ArrayLike, var: ArrayLike, tau2: ArrayLike, axis: int | None = None
) -> ArrayLike:
    """``min(1, 1/Λ)``; with ``axis`` (the looks) the running minimum, the p-value to report at each look."""
    with np.errstate(over="ignore"):
        p = np.minimum(1.0, np.exp(-np.asarray(msprt_log_lr(diff, var, tau2))))
    if axis is not None:
        p = np.minimum.accumulate(p, axis=axis)
    return _out(p)


def confidence_sequence(
    diff: ArrayLike, var: ArrayLike, tau2: ArrayLike, *, alpha: float = 0.05, axis: int | None = None
) -> tuple[ArrayLike, ArrayLike]:
    """Bounds of the (1 - alpha) confidence sequence; with ``axis`` the running intersection over looks."""
    diff, var, tau2 = np.asarray(diff, float), np.asarray(var, float), np.asarray(tau2, float)
    half = np.sqrt(2 * var * (var + tau2) / tau2 * (np.log(1 / alpha) + 0.5 * np.log((var + tau2) / var)))
    low, high = diff - half, diff + half
    if axis is not None:
        low, high = np.maximum.accumulate(low, axis=axis), np.minimum.accumulate(high, axis=axis)
    return _out(low), _out(high)
