"""The model card logged with each churn run and attached to its registry version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from training.factory.model_card import metrics_table

_METRIC_NOTES = {
    "roc_auc": "ROC-AUC (ranking of churners above non-churners)",
    "pr_auc": "PR-AUC (average precision for churners)",
    "ece": "ECE, 10 equal-width bins (lower is better)",
    "lift_top_decile": "churn rate in the top 10% of scores / overall churn rate",
}


def render_model_card(
    *,
    model_name: str,
    as_of: date,
    horizon_days: int,
    feature_set_version: str,
    features: Sequence[str],
    train_snapshots: Sequence[date],
    holdout_snapshot: date,
    data_first: date | None,
    n_train: int,
    n_holdout: int,
    holdout_churn_rate: float,
    metrics: Mapping[str, Mapping[str, float] | None],
    decision: str,
    params: Mapping[str, object],
) -> str:
    """Markdown that lets an ML engineer judge the run without opening the code."""
    snapshots = ", ".join(str(s) for s in train_snapshots)
    return f"""# {model_name} — customer churn (LightGBM binary)

**Question answered**: the probability that a customer makes no (non-cancelled) purchase in the
{horizon_days} days after the snapshot date.

## Data
- Source: `dwd.order_item`, purchases from {data_first} through {as_of} (run as_of).
- Feature set `{feature_set_version}`, built point-in-time at each snapshot S (only purchases before S
  00:00 UTC; cancellations only if recorded before S): {", ".join(f"`{f}`" for f in features)}.
- Training snapshots: {snapshots} ({n_train} customer-snapshot rows).
- Holdout: out-of-time snapshot {holdout_snapshot} ({n_holdout} customers, churn rate
  {holdout_churn_rate:.3f}); its label window [{holdout_snapshot}, +{horizon_days} d) lies after every
  training label window.

## Evaluation on the holdout
{metrics_table(_METRIC_NOTES, metrics)}

Baseline: recency rule (logistic fit of churn on log1p(recency_days) over the training rows, so its
ranking is exactly "longest since last purchase first" and its probabilities are comparable).
A BG/NBD P(alive) baseline is planned and not yet part of this comparison.

## Promotion
{decision}

## Parameters
{", ".join(f"`{k}={v}`" for k, v in sorted(params.items()))}

## Limitations
- Money features sum item amounts in each order's own currency (no FX conversion in DWD yet).
- Order status is the latest DWD version; a status change recorded after S other than a cancellation
  is not replayed.
- Customers are everyone with a purchase before S, however long ago.
"""
