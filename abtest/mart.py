"""Landing experiment results and exposures in the Postgres warehouse (psycopg 3).

``ads.ads_experiment_results`` holds one row per (experiment, metric, variant). A rerun replaces the
experiment's rows in one transaction (advisory lock, delete, insert), so readers see either the old
or the new analysis, never a mix, and a crash half-way leaves the old rows in place.
``dwd.experiment_exposure`` keeps each unit's first exposure; loading the same log twice is a no-op.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict

import pandas as pd
import psycopg
from psycopg import sql

from abtest.exposure import ExposureLog
from abtest.report import ExperimentReport

log = logging.getLogger(__name__)

RESULTS_TABLE = "ads_experiment_results"
EXPOSURE_TABLE = "experiment_exposure"

RESULTS_DDL = """
create table if not exists {table} (
    experiment          text             not null,
    metric              text             not null,
    variant             text             not null,
    control             text             not null,
    kind                text             not null,
    method              text             not null,
    n_control           bigint           not null,
    n_variant           bigint           not null,
    control_value       double precision,
    variant_value       double precision,
    abs_lift            double precision,
    abs_ci_low          double precision,
    abs_ci_high         double precision,
    rel_lift            double precision,
    rel_ci_low          double precision,
    rel_ci_high         double precision,
    p_value             double precision,
    p_adjusted          double precision,
    correction          text             not null,
    alpha               double precision not null,
    is_significant      boolean          not null,
    decision            text             not null,
    variance_reduction  double precision,
    seq_p_value         double precision,
    seq_p_adjusted      double precision,
    seq_ci_low          double precision,
    seq_ci_high         double precision,
    srm_p_value         double precision not null,
    is_srm_flagged      boolean          not null,
    analysed_at         timestamptz      not null,
    primary key (experiment, metric, variant)
)
"""

RESULT_COLUMNS = (
    "experiment", "metric", "variant", "control", "kind", "method", "n_control", "n_variant",
    "control_value", "variant_value", "abs_lift", "abs_ci_low", "abs_ci_high", "rel_lift", "rel_ci_low",
    "rel_ci_high", "p_value", "p_adjusted", "correction", "alpha", "is_significant", "decision",
    "variance_reduction", "seq_p_value", "seq_p_adjusted", "seq_ci_low", "seq_ci_high", "srm_p_value",
    "is_srm_flagged", "analysed_at",
)  # fmt: skip

EXPOSURE_DDL = """
create table if not exists {table} (
    experiment   text        not null,
    unit_id      text        not null,
    variant      text,
    bucket       integer     not null,
    reason       text        not null,
    stratum      text,
    channel      text,
    exposed_at   timestamptz not null,
    primary key (experiment, unit_id)
)
"""

EXPOSURE_COLUMNS = (
    "experiment",
    "unit_id",
    "variant",
    "bucket",
    "reason",
    "stratum",
    "channel",
    "exposed_at",
)


def _libpq(url: str) -> str:
    """Accept SQLAlchemy-style URLs (``postgresql+psycopg://``) as well as plain libpq ones."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


@contextmanager
def _connection(conn_or_url: psycopg.Connection | str) -> Iterator[psycopg.Connection]:
    """A connection we own (from a URL, closed afterwards) or the caller's (left open)."""
    if isinstance(conn_or_url, psycopg.Connection):
        with nullcontext(conn_or_url) as conn:
            yield conn
    elif isinstance(conn_or_url, str):
        with psycopg.connect(_libpq(conn_or_url)) as conn:
            yield conn
    else:
        raise ValueError(f"expected a psycopg connection or a postgres URL, got {type(conn_or_url).__name__}")


def _null_nan(value: object) -> object:
    return None if isinstance(value, float) and math.isnan(value) else value


def _result_rows(report: ExperimentReport) -> list[tuple]:
    rows = []
    for r in report.results:
        d = asdict(r)
        d["is_significant"] = d.pop("significant")
        d["srm_p_value"] = report.srm.p_value
        d["is_srm_flagged"] = report.srm.flagged
        d["analysed_at"] = report.analysed_at
        rows.append(tuple(_null_nan(d[c]) for c in RESULT_COLUMNS))
    return rows


def write_experiment_results(
    report: ExperimentReport, conn_or_url: psycopg.Connection | str, schema: str = "ads"
) -> int:
    """Replace the experiment's rows in ``<schema>.ads_experiment_results`` atomically; returns rows written.

    With a caller's connection already inside a transaction this runs as a savepoint and the caller
    decides when to commit.
    """
    table = sql.Identifier(schema, RESULTS_TABLE)
    rows = _result_rows(report)
    insert = sql.SQL("insert into {} ({}) values ({})").format(
        table,
        sql.SQL(", ").join(map(sql.Identifier, RESULT_COLUMNS)),
        sql.SQL(", ").join(sql.Placeholder() * len(RESULT_COLUMNS)),
    )
    with _connection(conn_or_url) as conn, conn.transaction():
        conn.execute(sql.SQL(RESULTS_DDL).format(table=table))
        # serialise concurrent writers of the same experiment (two reruns racing on delete + insert)
        conn.execute(
            "select pg_advisory_xact_lock(hashtext(%s))", (f"{schema}.{RESULTS_TABLE}:{report.experiment}",)
        )
        deleted = conn.execute(
            sql.SQL("delete from {} where experiment = %s").format(table), (report.experiment,)
        ).rowcount
        with conn.cursor() as cur:
            cur.executemany(insert, rows)
    log.info(
        "experiment %s: replaced %d rows with %d in %s.%s",
        report.experiment,
        deleted,
        len(rows),
        schema,
        RESULTS_TABLE,
    )
    return len(rows)


def write_exposures(
    exposures: ExposureLog | pd.DataFrame,
    conn_or_url: psycopg.Connection | str,
    schema: str = "dwd",
    table: str = EXPOSURE_TABLE,
) -> int:
    """Load first exposures into ``<schema>.<table>``; returns rows inserted or moved to an earlier time.

    Idempotent: a unit already stored keeps its row unless the new exposure is earlier. A unit whose
    stored variant differs from the new one means the experiment's salt or weights changed while it
    ran; that raises ValueError (nothing is written) instead of silently mixing two assignments.
    """
    frame = exposures.to_dataframe() if isinstance(exposures, ExposureLog) else exposures
    missing = [c for c in EXPOSURE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"exposures are missing column(s) {missing}")
    if frame.empty:
        return 0
    target = sql.Identifier(schema, table)
    cols = sql.SQL(", ").join(map(sql.Identifier, EXPOSURE_COLUMNS))
    records = frame.loc[:, list(EXPOSURE_COLUMNS)].astype(object)
    records = records.where(records.notna(), None)
    with _connection(conn_or_url) as conn, conn.transaction():
        conn.execute(sql.SQL(EXPOSURE_DDL).format(table=target))
        conn.execute(
            sql.SQL("create temp table _exposure_batch (like {} including defaults) on commit drop").format(
                target
            )
        )
        with (
            conn.cursor() as cur,
            cur.copy(sql.SQL("copy _exposure_batch ({}) from stdin").format(cols)) as copy,
        ):
            for row in records.itertuples(index=False, name=None):
                copy.write_row(row)
        conflicts = conn.execute(
            sql.SQL(
                "select experiment, count(*) from ("
                " select b.experiment, b.unit_id from _exposure_batch b join {} t using (experiment, unit_id)"
                " where t.variant is distinct from b.variant"
                " union select experiment, unit_id from _exposure_batch group by experiment, unit_id"
                " having count(distinct coalesce(variant, '')) > 1"
                ") c group by experiment"
            ).format(target)
        ).fetchall()
        if conflicts:
            detail = ", ".join(f"{exp}: {n} units" for exp, n in conflicts)
            raise ValueError(
                f"exposures contradict stored or other assignments ({detail}); "
                f"was the salt or were the weights changed mid-experiment?"
            )
        inserted = conn.execute(
            sql.SQL(
                "insert into {t} ({cols}) select distinct on (experiment, unit_id) {cols} "
                "from _exposure_batch order by experiment, unit_id, exposed_at "
                "on conflict (experiment, unit_id) do update set exposed_at = excluded.exposed_at, "
                "channel = excluded.channel where excluded.exposed_at < {t}.exposed_at"
            ).format(t=target, cols=cols)
        ).rowcount
    log.info(
        "exposures: %d rows in, %d inserted or moved earlier in %s.%s", len(frame), inserted, schema, table
    )
    return inserted
