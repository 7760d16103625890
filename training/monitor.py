"""Model monitoring into ``ads.ads_model_monitor``: per model and day, the drift of the day's scores from
the training scores (PSI over training deciles) and, once labels have matured, the realised metric of the
scores issued a horizon earlier — so a decaying champion shows up before anyone asks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from sklearn.metrics import roc_auc_score

from ops.settings import Settings
from storage.warehouse import connect
from training.churn import MODEL_NAME as CHURN
from training.mlflow_setup import mlflow_client
from training.ranker import MODEL_NAME as RANKER
from training.ranker.data import load_history
from training.ranker.features import GROUP, KEY, breakout_labels
from training.ranking_metrics import mean_ndcg

log = logging.getLogger(__name__)

MONITOR_TABLE = "ads.ads_model_monitor"
_DDL = """
create table if not exists ads.ads_model_monitor (
    model_name           text             not null,
    monitor_date         date             not null,
    model_version        text             not null,
    n_scored             integer          not null,
    score_psi            double precision not null,
    realised_metric      text             not null,
    realised_value       double precision,
    realised_score_date  date,
    realised_version     text,
    realised_rows        integer,
    computed_at          timestamptz      not null default now(),
    primary key (model_name, monitor_date)
);
comment on table ads.ads_model_monitor is
    'Per model and day: PSI of the day''s scores against the training scores, and the realised metric of '
    'the scores issued realised_score_date (null until their labels have matured).';
"""
_PSI_FLOOR = 1e-4  # an empty bin would make PSI infinite


def psi(edges: list[float], expected: list[float], scores: np.ndarray) -> float:
    """Population stability index of ``scores`` over the reference bins (edges between the bins)."""
    counts = np.histogram(scores, bins=np.r_[-np.inf, edges, np.inf])[0]
    actual = np.maximum(counts / max(counts.sum(), 1), _PSI_FLOOR)
    reference = np.maximum(np.asarray(expected, dtype=float), _PSI_FLOOR)
    return float(((actual - reference) * np.log(actual / reference)).sum())


@dataclass(frozen=True)
class Realised:
    value: float | None
    score_date: date | None
    version: str | None
    rows: int | None


def _reference(client: MlflowClient, model_name: str, version: str) -> dict:
    run_id = client.get_model_version(model_name, version).run_id
    return mlflow.artifacts.load_dict(f"runs:/{run_id}/score_reference.json")


def _params(client: MlflowClient, model_name: str, version: str) -> dict[str, str]:
    return client.get_run(client.get_model_version(model_name, version).run_id).data.params


def realised_ranker_ndcg(
    settings: Settings, issued: date, horizon_days: int, quantiles: tuple[float, ...]
) -> Realised:
    """NDCG@10 of the scores issued on ``issued`` against the graded breakouts that followed."""
    with connect(settings) as conn:
        rows = conn.execute(
            "select marketplace_id, category, asin, score, model_version from ads.ads_asin_breakout_scores "
            "where score_date = %s",
            (issued,),
        ).fetchall()
        history = load_history(conn, issued - timedelta(days=6), issued + timedelta(days=horizon_days))
    if not rows:
        return Realised(None, issued, None, 0)
    frame = pd.DataFrame(rows, columns=[*KEY, "score", "model_version"]).set_index(list(KEY))
    labels = breakout_labels(history, issued, horizon_days, quantiles)
    joined = frame.join(labels, how="inner").sort_index()
    sizes = joined.groupby(level=list(GROUP[:2]), sort=False).size().to_numpy()
    value = mean_ndcg(joined["label"].to_numpy(), joined["score"].to_numpy(), sizes, 10)
    return Realised(value, issued, str(frame["model_version"].iloc[0]), len(joined))


def _write(settings: Settings, row: dict) -> dict:
    with connect(settings) as conn:
        conn.execute(_DDL)
        conn.execute(
            "delete from ads.ads_model_monitor where model_name = %s and monitor_date = %s",
            (row["model_name"], row["monitor_date"]),
        )
        conn.execute(
            f"insert into {MONITOR_TABLE} ({', '.join(row)}) values ({', '.join(['%s'] * len(row))})",
            tuple(row.values()),
        )
        conn.execute(f"grant select on {MONITOR_TABLE} to analyst")
    log.info("monitor %s %s: %s", row["model_name"], row["monitor_date"], row)
    return row


def _monitor(settings: Settings, model_name: str, day: date, scores_sql: str, metric: str, realise) -> dict:
    """PSI of ``day``'s scores (``scores_sql``: their array and version) and
    ``realise(issued, params of the version)`` of the scores issued a horizon earlier."""
    client = mlflow_client(settings)
    with connect(settings) as conn:
        found = conn.execute(scores_sql, (day,)).fetchone()
    if not found or found[0] is None:
        raise ValueError(f"{MONITOR_TABLE}: no {model_name} scores for {day}; score the day first")
    scores, version = np.asarray(found[0], dtype=float), str(found[1])
    reference = _reference(client, model_name, version)
    params = _params(client, model_name, version)
    realised = realise(day - timedelta(days=int(params["horizon_days"])), params)
    return _write(
        settings,
        {
            "model_name": model_name,
            "monitor_date": day,
            "model_version": version,
            "n_scored": len(scores),
            "score_psi": psi(reference["edges"], reference["shares"], scores),
            "realised_metric": metric,
            "realised_value": realised.value,
            "realised_score_date": realised.score_date if realised.rows else None,
            "realised_version": realised.version,
            "realised_rows": realised.rows,
        },
    )


def monitor_ranker(settings: Settings, day: date) -> dict:
    """The ranker's monitor row for ``day``: PSI of its scores, realised NDCG@10 a horizon later."""
    return _monitor(
        settings,
        RANKER,
        day,
        "select array_agg(score), min(model_version) from ads.ads_asin_breakout_scores where score_date = %s",
        "ndcg_at_10",
        lambda issued, params: realised_ranker_ndcg(
            settings,
            issued,
            int(params["horizon_days"]),
            tuple(float(q) for q in params["grade_quantiles"].split(",")),
        ),
    )


def realised_churn_auc(settings: Settings, issued: date, horizon_days: int) -> Realised:
    """ROC-AUC of the churn scores issued on ``issued`` (features through it, so S = issued + 1)
    against who then made no non-cancelled purchase in ``[S, S + horizon)``."""
    start = datetime.combine(issued + timedelta(days=1), time.min, tzinfo=UTC)
    with connect(settings) as conn:
        rows = conn.execute(
            "select s.churn_probability, (f.customer_key is null)::int, s.model_version "
            "from ads.churn_scores s left join (select distinct customer_key from dwd.order_item "
            "  where purchased_at >= %s and purchased_at < %s and order_status <> 'cancelled') f "
            "  using (customer_key) where s.score_date = %s",
            (start, start + timedelta(days=horizon_days), issued),
        ).fetchall()
    labels = np.array([r[1] for r in rows])
    if len(set(labels)) < 2:
        return Realised(None, issued, None, len(rows))
    value = float(roc_auc_score(labels, [r[0] for r in rows]))
    return Realised(value, issued, str(rows[0][2]), len(rows))


def monitor_churn(settings: Settings, day: date) -> dict:
    """Churn's monitor row for ``day``: PSI of its probabilities, realised ROC-AUC a horizon later."""
    return _monitor(
        settings,
        CHURN,
        day,
        "select array_agg(churn_probability), min(model_version) from ads.churn_scores where score_date = %s",
        "roc_auc",
        lambda issued, params: realised_churn_auc(settings, issued, int(params["horizon_days"])),
    )


MONITORS = {"ranker": monitor_ranker, "churn": monitor_churn}
