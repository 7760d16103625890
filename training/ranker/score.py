"""Daily breakout scores: the champion ranker over every ASIN with a snapshot on the day, into
``ads.ads_asin_breakout_scores`` beside the baseline's rank; a rerun replaces the day in one transaction."""

from __future__ import annotations

import io
import logging
from datetime import date, timedelta

import pandas as pd

from ops.settings import Settings
from storage.warehouse import connect
from training.factory.champion import load_champion
from training.mlflow_setup import mlflow_client
from training.ranker import MODEL_NAME
from training.ranker.data import load_history
from training.ranker.features import GROUP, KEY, LOOKBACK_DAYS, asin_features

log = logging.getLogger(__name__)

SCORES_TABLE = "ads.ads_asin_breakout_scores"
_DDL = """
create table if not exists ads.ads_asin_breakout_scores (
    score_date      date             not null,
    marketplace_id  text             not null,
    category        text             not null,
    asin            text             not null,
    score           double precision not null,
    rank_in_group   integer          not null check (rank_in_group >= 1),
    group_size      integer          not null,
    baseline_rank   integer,
    model_name      text             not null,
    model_version   text             not null,
    scored_at       timestamptz      not null default now(),
    primary key (score_date, marketplace_id, asin)
);
comment on table ads.ads_asin_breakout_scores is
    'Tomorrow''s breakout ASINs: the champion ranker''s score per ASIN and day (features through '
    'score_date), '
    'rank 1 = most likely to climb within (marketplace, category), with the robust z-score baseline''s rank.';
"""
_COLUMNS = ("score_date", "marketplace_id", "category", "asin", "score", "rank_in_group", "group_size",
            "baseline_rank", "model_name", "model_version")  # fmt: skip


def features_for_day(settings: Settings, day: date) -> tuple[pd.DataFrame, pd.Series]:
    """Features of every ASIN with a snapshot on ``day`` (history through ``day`` only) and its
    baseline peer rank that day."""
    with connect(settings) as conn:
        history = load_history(conn, day - timedelta(days=LOOKBACK_DAYS - 1), day)
    if history.empty:
        raise ValueError(f"{SCORES_TABLE}: dws.dws_asin_daily has no ASIN snapshot on {day}")
    features = asin_features(history, day)
    today = history[history["ds"] == pd.Timestamp(day)].set_index(list(KEY))
    return features, today["peer_rank"].reindex(features.index)


def score_ranker(settings: Settings, as_of: date, model_name: str = MODEL_NAME) -> int:
    """Score day ``as_of`` with the champion into ads.ads_asin_breakout_scores; returns rows written."""
    champion = load_champion(mlflow_client(settings), model_name)
    features, baseline_rank = features_for_day(settings, as_of)
    scores = champion.predict(features.drop(columns="snapshot_date"))
    out = features.index.to_frame(index=False).assign(score_date=as_of, score=scores)
    group = out.groupby(list(GROUP[:2]))["score"]
    out["rank_in_group"] = group.rank(ascending=False, method="first").astype(int)
    out["group_size"] = group.transform("size")
    out["baseline_rank"] = baseline_rank.to_numpy()
    out["baseline_rank"] = out["baseline_rank"].astype("Int64")
    out = out.assign(model_name=model_name, model_version=champion.version)[list(_COLUMNS)]
    buffer = io.StringIO()
    out.to_csv(buffer, header=False, index=False)
    with connect(settings) as conn:
        conn.execute(_DDL)
        conn.execute("select pg_advisory_xact_lock(hashtext(%s), %s)", (SCORES_TABLE, as_of.toordinal()))
        conn.execute("delete from ads.ads_asin_breakout_scores where score_date = %s", (as_of,))
        with conn.cursor().copy(
            f"copy {SCORES_TABLE} ({', '.join(_COLUMNS)}) from stdin (format csv)"
        ) as copy:
            copy.write(buffer.getvalue())
        conn.execute(f"grant select on {SCORES_TABLE} to analyst")
    log.info("breakout scores %s: %s v%s, %d ASINs", as_of, model_name, champion.version, len(out))
    return len(out)
