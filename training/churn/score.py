"""Daily churn scoring: the champion model over every known customer, into ``ads.churn_scores``.

A rerun for the same day replaces that day's rows in one transaction (delete + COPY), so readers see
either the old scores or the new ones, never a mix or a partial day.
"""

from __future__ import annotations

import io
import logging
from datetime import date, timedelta

import mlflow.lightgbm
import numpy as np
import pandas as pd

from ops.settings import Settings
from storage.warehouse import connect
from training.churn import MODEL_NAME
from training.churn.features import FEATURE_COLUMNS, FEATURE_SET_VERSION, build_features
from training.mlflow_setup import mlflow_client
from training.registry import require_champion

log = logging.getLogger(__name__)

SCORES_TABLE = "ads.churn_scores"
ANALYST_ROLE = "analyst"

_DDL = """
create table if not exists ads.churn_scores (
    score_date        date             not null,
    customer_key      text             not null,
    churn_probability double precision not null check (churn_probability between 0 and 1),
    risk_decile       int              not null check (risk_decile between 1 and 10),
    model_version     text             not null,
    scored_at         timestamptz      not null default now(),
    primary key (score_date, customer_key)
);
comment on table ads.churn_scores is
    'Daily churn scores from the champion mercator_churn model: features use purchases through score_date.';
comment on column ads.churn_scores.churn_probability is
    'P(no purchase in the next churn_horizon_days days after score_date).';
comment on column ads.churn_scores.risk_decile is '10 = the 10% of customers most likely to churn that day.';
"""


def risk_deciles(probabilities: np.ndarray) -> np.ndarray:
    """Deciles 1..10 by rank (10 = highest risk); ties broken by position so sizes stay equal."""
    ranks = pd.Series(probabilities).rank(method="first").to_numpy()
    return np.ceil(ranks * 10 / max(len(ranks), 1)).astype(int)


def _csv(scores: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    scores.to_csv(buffer, header=False, index=False)
    return buffer.getvalue().encode()


def score_churn(settings: Settings, as_of: date, model_name: str = MODEL_NAME) -> int:
    """Score every customer with purchases through ``as_of`` for ``score_date = as_of``; returns rows."""
    client = mlflow_client(settings)
    champion = require_champion(client, model_name)
    booster = mlflow.lightgbm.load_model(f"models:/{model_name}/{champion.version}")
    needed = booster.feature_name()
    unknown = sorted(set(needed) - set(FEATURE_COLUMNS))
    if unknown:
        raise ValueError(
            f"{model_name} v{champion.version} expects features {unknown} that {FEATURE_SET_VERSION} lacks"
        )

    with connect(settings) as conn:
        features = build_features(conn, as_of + timedelta(days=1))
        probabilities = booster.predict(features[needed]) if len(features) else np.empty(0)
        scores = pd.DataFrame(
            {
                "score_date": as_of,
                "customer_key": features.index,
                "churn_probability": np.clip(probabilities, 0.0, 1.0),
                "risk_decile": risk_deciles(probabilities),
                "model_version": str(champion.version),
            }
        )
        conn.execute(_DDL)
        # Serialise concurrent reruns of one day; the delete + COPY then commit together.
        conn.execute(
            "select pg_advisory_xact_lock(hashtext('ads.churn_scores'), %s)",
            ((as_of - date(1970, 1, 1)).days,),
        )
        deleted = conn.execute("delete from ads.churn_scores where score_date = %s", (as_of,)).rowcount
        with conn.cursor().copy(
            "copy ads.churn_scores (score_date, customer_key, churn_probability, risk_decile, model_version) "
            "from stdin (format csv)"
        ) as copy:
            copy.write(_csv(scores))
        if conn.execute("select 1 from pg_roles where rolname = %s", (ANALYST_ROLE,)).fetchone():
            conn.execute(f"grant select on {SCORES_TABLE} to {ANALYST_ROLE}")
        else:
            log.warning("role %s missing: %s not granted to analysts", ANALYST_ROLE, SCORES_TABLE)
    log.info(
        "churn scores %s: model v%s, %d customers in, %d rows written (%d replaced), mean p=%.3f",
        as_of,
        champion.version,
        len(features),
        len(scores),
        deleted,
        float(scores["churn_probability"].mean()) if len(scores) else float("nan"),
    )
    return len(scores)
