"""Writing results and exposures to a real Postgres (MERCATOR_TEST_PG_URL or the local server)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from abtest.analysis import AnalysisConfig, Metric, analyze
from abtest.config import Experiment, Variant
from abtest.exposure import ExposureLog
from abtest.mart import RESULTS_TABLE, write_experiment_results, write_exposures
from abtest.splitter import TrafficSplitter

pytestmark = pytest.mark.postgres

AT = datetime(2024, 7, 1, tzinfo=UTC)


@pytest.fixture
def schema(pg_url):
    name = f"abtest_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(name)))


def make_report(experiment: str, metrics: list[Metric], seed: int = 0, analysed_at: datetime = AT):
    rng = np.random.default_rng(seed)
    n = 5000
    units = pd.DataFrame(
        {
            "variant": rng.choice(["control", "treatment"], n),
            "converted": (rng.random(n) < 0.1).astype(int),
            "clicks": rng.poisson(2, n),
            "impressions": rng.poisson(40, n) + 1,
        }
    )
    config = AnalysisConfig(experiment, "control", {"control": 1, "treatment": 1})
    return analyze(units, metrics, config, analysed_at=analysed_at)


def rows(pg_url, schema, experiment=None):
    query = sql.SQL("select * from {} {} order by experiment, metric, variant").format(
        sql.Identifier(schema, RESULTS_TABLE), sql.SQL("where experiment = %s" if experiment else "")
    )
    with psycopg.connect(pg_url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(query, (experiment,) if experiment else ()).fetchall()


CR, CTR = Metric.mean("cr", "converted"), Metric.ratio("ctr", "clicks", "impressions")


def test_results_land_with_the_reported_values(pg_url, schema):
    report = make_report("exp_mart", [CR, CTR])
    assert write_experiment_results(report, pg_url, schema=schema) == 2
    stored = {r["metric"]: r for r in rows(pg_url, schema)}
    frame = report.to_dataframe().set_index("metric")
    for metric in ("cr", "ctr"):
        got, want = stored[metric], frame.loc[metric]
        assert got["experiment"] == "exp_mart" and got["variant"] == "treatment"
        assert got["abs_lift"] == pytest.approx(want["abs_lift"])
        assert got["p_adjusted"] == pytest.approx(want["p_adjusted"])
        assert got["is_significant"] == bool(want["significant"]) and got["decision"] == want["decision"]
        assert got["srm_p_value"] == pytest.approx(report.srm.p_value) and got["is_srm_flagged"] is False
        assert got["analysed_at"] == AT
        assert got["seq_p_value"] is None and got["variance_reduction"] is None  # NaN lands as NULL
    assert stored["ctr"]["method"] == "delta" and stored["cr"]["n_control"] == report.results[0].n_control


def test_rerun_replaces_only_that_experiments_rows(pg_url, schema):
    write_experiment_results(make_report("exp_a", [CR, CTR]), pg_url, schema=schema)
    write_experiment_results(make_report("exp_b", [CR, CTR]), pg_url, schema=schema)
    later = AT + timedelta(days=1)
    write_experiment_results(make_report("exp_a", [CR], seed=1, analysed_at=later), pg_url, schema=schema)
    a = rows(pg_url, schema, "exp_a")
    assert [(r["metric"], r["analysed_at"]) for r in a] == [("cr", later)]
    assert len(rows(pg_url, schema, "exp_b")) == 2
    # idempotent: the same report twice leaves the same rows
    write_experiment_results(make_report("exp_a", [CR], seed=1, analysed_at=later), pg_url, schema=schema)
    assert rows(pg_url, schema, "exp_a") == a


def test_failed_write_leaves_previous_results_intact(pg_url, schema):
    good = make_report("exp_atomic", [CR, CTR])
    write_experiment_results(good, pg_url, schema=schema)
    before = rows(pg_url, schema)
    broken_row = dataclasses.replace(good.results[1], decision=None)  # violates NOT NULL on insert
    broken = dataclasses.replace(
        good, results=(good.results[0], broken_row), analysed_at=AT + timedelta(days=2)
    )
    with pytest.raises(psycopg.errors.NotNullViolation):
        write_experiment_results(broken, pg_url, schema=schema)
    assert rows(pg_url, schema) == before  # the delete and the first insert were rolled back


def test_accepts_a_connection_and_sqlalchemy_style_url(pg_url, schema):
    with psycopg.connect(pg_url) as conn:
        write_experiment_results(make_report("exp_conn", [CR]), conn, schema=schema)
    sa_url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    write_experiment_results(make_report("exp_url", [CR]), sa_url, schema=schema)
    assert {r["experiment"] for r in rows(pg_url, schema)} == {"exp_conn", "exp_url"}
    with pytest.raises(ValueError, match="psycopg connection or a postgres URL"):
        write_experiment_results(make_report("exp_x", [CR]), 42, schema=schema)


def test_exposures_land_once_and_contradictions_are_refused(pg_url, schema):
    exp = Experiment("exp_expo", "expo-salt", (Variant("control"), Variant("treatment")), traffic=0.8)
    splitter = TrafficSplitter(exp)
    log = ExposureLog()
    for i in range(300):
        log.record(splitter.assign(f"u{i}"), at=AT + timedelta(minutes=i), channel="email")
    assert write_exposures(log, pg_url, schema=schema) == 300
    assert write_exposures(log, pg_url, schema=schema) == 0  # same log again: nothing changes
    table = sql.Identifier(schema, "experiment_exposure")
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute(sql.SQL("select count(*), count(variant) from {}").format(table)).fetchone()
    frame = log.to_dataframe()
    assert stored == (300, int(frame["variant"].notna().sum()))

    earlier = frame.head(1).assign(exposed_at=pd.Timestamp(AT - timedelta(days=1)), channel="push")
    assert write_exposures(earlier, pg_url, schema=schema) == 1
    flipped = frame[frame["variant"].notna()].head(3).copy()
    flipped["variant"] = flipped["variant"].map({"control": "treatment", "treatment": "control"})
    with pytest.raises(ValueError, match="exp_expo: 3 units"):
        write_exposures(flipped, pg_url, schema=schema)
    with psycopg.connect(pg_url) as conn:
        first = conn.execute(
            sql.SQL("select exposed_at, channel from {} where unit_id = %s").format(table),
            (frame.unit_id[0],),
        ).fetchone()
        variants = conn.execute(sql.SQL("select count(*) from {} where variant is not null").format(table))
        assert variants.fetchone()[0] == stored[1]
    assert first == (AT - timedelta(days=1), "push")
