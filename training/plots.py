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


def ranking_figure(
    labels: np.ndarray,
    scores: dict[str, np.ndarray],
    group_sizes: np.ndarray,
    importance: pd.Series,
    relevant_from: int = 1,
) -> Figure:
    """Lift curve (breakouts captured in each group's top share), NDCG@k and feature importance."""
    from training.ranking_metrics import lift_curve, mean_ndcg

    fig = Figure(figsize=(15, 4.2), layout="constrained")
    lift, ndcg, imp = fig.subplots(1, 3)
    shares = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0]
    relevant = np.asarray(labels) >= relevant_from
    for name, score in scores.items():
        curve = lift_curve(relevant, score, group_sizes, shares)
        lift.plot(curve.index, curve.to_numpy(), marker="o", label=name)
    lift.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random")
    lift.set(title="Breakouts captured in the top share", xlabel="top share of each group", ylabel="captured")
    lift.legend()
    ks = list(range(1, 21))
    for name, score in scores.items():
        ndcg.plot(ks, [mean_ndcg(labels, score, group_sizes, k) for k in ks], marker=".", label=name)
    ndcg.set(title="NDCG@k (LightGBM definition)", xlabel="k", ylabel="NDCG")
    ndcg.legend()
    top = importance.sort_values().tail(15)
    imp.barh(top.index, top.to_numpy())
    imp.set(title="Feature importance (gain)")
    return fig
