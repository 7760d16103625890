"""ADS checkpoint on real Postgres: each mart against its previous passing day.

A small mart of our own (same shape as a real one: a metric per row and an as-of date) is rebuilt day
by day like dbt rebuilds a mart; the gate records its profile and holds the next day to it.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import psycopg
import pytest
import yaml

from ops.quality.ads import MARTS, Drift, MartCheck, validate_ads
from ops.settings import REPO_ROOT, Settings
from spark_jobs.quality import DataQualityError
from storage.warehouse import connect

D1 = date(2025, 11, 1)


@pytest.fixture
def mart(gate_settings: Settings) -> MartCheck:
    """A fresh mart name per test, so profiles of other tests cannot serve as its baseline."""
    name = f"ads.qa_gate_{uuid.uuid4().hex[:10]}"
    yield MartCheck(name, drift=(Drift("gmv"),), fresh_column="as_of_ds")
    with connect(gate_settings, autocommit=True) as conn:
        conn.execute(f"drop table if exists {name}")


def rebuild(settings: Settings, check: MartCheck, as_of: date, rows: int, scale: float = 1.0) -> None:
    """Replace the mart like a dbt table model: log-normal GMV (seeded by the day), one as-of date."""
    gmv = np.random.default_rng(as_of.toordinal()).lognormal(3.5, 0.6, rows) * scale
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(f"drop table if exists {check.mart}")
        cur.execute(f"create table {check.mart} (customer text, gmv numeric(14, 2), as_of_ds date)")
        with cur.copy(f"copy {check.mart} (customer, gmv, as_of_ds) from stdin") as copy:
            for i, value in enumerate(gmv):
                copy.write_row((f"c{i}", round(float(value), 2), as_of))


def gate(settings: Settings, check: MartCheck, ds: date) -> str | None:
    """None when the mart passes, else the error text."""
    try:
        validate_ads(settings, ds, [check])
    except DataQualityError as error:
        return str(error)
    return None


def test_a_steady_mart_passes_and_a_halved_row_count_fails_with_the_observed_count(
    gate_settings: Settings, mart: MartCheck
):
    rebuild(gate_settings, mart, D1, 200)
    [first] = validate_ads(gate_settings, D1, [mart])
    assert first.partitions[D1].evaluated == 2, "no baseline yet: not empty and fresh only"

    rebuild(gate_settings, mart, D1 + timedelta(days=1), 210)
    [second] = validate_ads(gate_settings, D1 + timedelta(days=1), [mart])
    assert second.partitions[D1 + timedelta(days=1)].evaluated == 4, "row count, freshness, mean, median"

    day3 = D1 + timedelta(days=2)
    rebuild(gate_settings, mart, day3, 105)
    message = gate(gate_settings, mart, day3)

    assert message is not None and message.startswith(f"ADS {mart.mart}: 1 of 1 partitions failed")
    assert f"{mart.mart} ds=2025-11-03 (105 rows)" in message
    assert (
        "expect_table_row_count_to_be_between [row count within -20%/+100% of 2025-11-02 (210 rows)]: "
        "observed 105 (expected between 168 and 420)"
    ) in message
    assert "mean gmv" not in message, "the distribution itself did not move"


def test_a_drifted_metric_fails_naming_mean_and_median_and_a_failed_day_is_no_baseline(
    gate_settings: Settings, mart: MartCheck
):
    for offset in range(2):
        rebuild(gate_settings, mart, D1 + timedelta(days=offset), 300)
        assert gate(gate_settings, mart, D1 + timedelta(days=offset)) is None

    day3 = D1 + timedelta(days=2)
    rebuild(gate_settings, mart, day3, 300, scale=3.0)  # e.g. a currency unit bug
    message = gate(gate_settings, mart, day3)

    assert message is not None
    assert "expect_column_mean_to_be_between [mean gmv within 1 sd of 2025-11-02" in message
    assert "expect_column_median_to_be_between [median gmv within 1 sd of 2025-11-02" in message
    assert "row count" not in message
    observed = float(message.split("mean gmv within")[1].split("observed ")[1].split(" ")[0])
    assert observed > 2.5 * 40, "the observed mean is reported (about 3x the usual ~40)"

    day4 = D1 + timedelta(days=3)
    rebuild(gate_settings, mart, day4, 300)
    assert gate(gate_settings, mart, day4) is None, "day 4 is held to day 2, the last passing day"
    with psycopg.connect(gate_settings.warehouse_url) as conn:
        rows = conn.execute(
            "select ds, success from ops.quality_profile where name = %s order by ds", (mart.mart,)
        ).fetchall()
    assert [ok for _, ok in rows] == [True, True, False, True]


def test_a_stale_mart_fails_freshness_and_a_missing_mart_is_named(gate_settings: Settings, mart: MartCheck):
    rebuild(gate_settings, mart, D1, 50)  # as of the 1st, checked for the 2nd
    message = gate(gate_settings, mart, D1 + timedelta(days=1))
    assert (
        message is not None and "max(as_of_ds) reaches 2025-11-02 (days behind <= 0)]: observed 1" in message
    )

    absent = MartCheck("ads.qa_gate_never_built", drift=(Drift("gmv"),))
    message = gate(gate_settings, absent, D1)
    assert message is not None and "expect_table_to_exist [ads.qa_gate_never_built exists]" in message
    docs = gate_settings.home / "gx_docs" / "ads" / "ads.qa_gate_never_built" / "ds=2025-11-01.html"
    assert "FAILED" in docs.read_text()


def test_every_configured_mart_column_is_a_documented_column_of_its_dbt_model():
    for check in MARTS:
        schema, model = check.mart.split(".")
        assert schema == "ads"
        spec = yaml.safe_load(Path(REPO_ROOT / "dbt" / "models" / "ads" / f"{model}.yml").read_text())
        [entry] = [m for m in spec["models"] if m["name"] == model]
        documented = {column["name"] for column in entry["columns"]}
        configured = {d.column for d in check.drift} | ({check.fresh_column} - {None})
        assert configured <= documented, check.mart
