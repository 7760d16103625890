"""The model card logged with each ranker run and attached to its registry version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from training.factory.model_card import metrics_table

_METRIC_NOTES = {
    "ndcg_at_5": "NDCG@5 (LightGBM definition: gain 2^l - 1, all-zero group = 1)",
    "ndcg_at_10": "NDCG@10",
    "recall_at_10": "recall@10 of breakouts (grade >= 1) per group",
    "map": "MAP of breakouts per group",
    "captured_top_10pct": "share of all breakouts in the groups' top 10% (lift curve point)",
}


def render_model_card(
    *,
    title: str,
    params: Mapping[str, object],
    features: Sequence[str],
    n_rows: Mapping[str, int],
    metrics: Mapping[str, Mapping[str, float] | None],
    decision: str,
    history: Sequence[str],
) -> str:
    """Markdown that lets an ML engineer judge the run without opening the code."""
    return f"""# {title} — ASIN breakout ranker (LightGBM lambdarank)

**Question answered**: within each (marketplace, leaf category, day), which ASINs will climb the
sales rank most over the next {params["horizon_days"]} days?

## Data
- Source: `dws.dws_asin_daily` with `ads.ads_asin_breakout_baseline`, days {params["data_first_date"]}
  through {params["data_last_date"]}; source filter: {params["source"]}.
- Feature set `{params["feature_set_version"]}` at each snapshot S from days S-27..S only (checked by the
  factory's leak guard): {", ".join(f"`{f}`" for f in features)}.
- Label: mean log BSR over the in-stock days S-6..S minus over S+h-6..S+h, graded by its quantile in the
  group (cut points {params["grade_quantiles"]} give grades 0-3).
- Snapshots: train {params["train_snapshots"]} ({n_rows["train"]} rows); validation (early stopping)
  {params["valid_snapshots"]} ({n_rows["valid"]}); test {params["test_snapshots"]} ({n_rows["test"]}).

## Evaluation on the test snapshots (same groups for every column)
{metrics_table(_METRIC_NOTES, metrics)}

Baseline: the robust z-score score of current signals (`baseline_score`). Oracle (sandbox only): the
ASINs ordered by their true future momentum gain from the sandbox truth.

## Promotion
{decision}

## Known limits
- Rank gains also follow the sandbox's non-breakout drift and day-to-day noise, which recent rank history
  partly predicts; the oracle knows only true breakout momentum, so on observed labels it is not a ceiling.
- Groups hold a leaf category of one marketplace; ASINs without a snapshot on S are not ranked.

## Change history
{chr(10).join(f"- {line}" for line in history) or "- first version"}

## Parameters
{", ".join(f"`{k}={v}`" for k, v in sorted(params.items()))}
"""
