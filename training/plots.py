"""Evaluation figures logged with every run (reliability curve, lift by decile, feature importance).

Figures are built on ``matplotlib.figure.Figure`` directly, so no pyplot global state or GUI backend is
involved: PNG rendering goes through Agg in workers, DAG tasks and tests alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from training.metrics import decile_lift, reliability_table


def evaluation_figure(y: np.ndarray, scores: dict[str, np.ndarray], importance: pd.Series | None) -> Figure:
    """Reliability and lift curves of each named score on one holdout, plus top feature importances."""
    panels = 3 if importance is not None else 2
    fig = Figure(figsize=(5 * panels, 4.2), layout="constrained")
    axes = fig.subplots(1, panels)

    calib = axes[0]
    calib.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for name, score in scores.items():
        table = reliability_table(y, score)
        calib.plot(table["mean_score"], table["observed"], marker="o", label=name)
    calib.set(title="Reliability (10 bins)", xlabel="mean predicted", ylabel="observed rate")
    calib.legend(loc="upper left")

    lift = axes[1]
    width = 0.8 / max(len(scores), 1)
    for i, (name, score) in enumerate(scores.items()):
        curve = decile_lift(y, score)
        lift.bar(curve.index + (i - (len(scores) - 1) / 2) * width, curve.to_numpy(), width=width, label=name)
    lift.axhline(1.0, color="grey", linestyle=":")
    lift.set(title="Lift by score decile (1 = highest)", xlabel="decile", ylabel="lift")
    lift.set_xticks(range(1, 11))
    lift.legend()

    if importance is not None:
        top = importance.sort_values().tail(15)
        axes[2].barh(top.index, top.to_numpy())
        axes[2].set(title="Feature importance (gain)")
    return fig
