"""ADS checkpoint on real Postgres: each mart against its previous passing day.

A small mart of our own (same shape as a real one: a metric per row and an as-of date) is rebuilt day
by day like dbt rebuilds a mart; the gate records its profile and holds the next day to it.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
import yaml

from ops.quality.ads import (
    MARTS,
    PROFILE_DDL,
    Drift,
    MartCheck,
    Profile,
    baseline,
    histogram_of,
    mart_suite,
    read_mart,
    validate_ads,
)
from ops.quality.engine import DataQualityError, SuiteRunner
from ops.settings import REPO_ROOT, Settings
from storage.warehouse import connect

D1 = date(2025, 11, 1)
D2 = D1 + timedelta(days=1)
KL = "expect_column_kl_divergence_to_be_less_than"


@pytest.fixture
def mart(gate_settings: Settings) -> MartCheck:
    """A fresh mart name per test, so profiles of other tests cannot serve as its baseline.

    One passing day is baseline enough here; the young-warehouse minimum has its own tests.
    """
    name = f"ads.qa_gate_{uuid.uuid4().hex[:10]}"
    yield MartCheck(
        name, drift=(Drift("gmv", min_baseline_days=1),), fresh_column="as_of_ds", min_baseline_days=1
    )
    with connect(gate_settings, autocommit=True) as conn:
        conn.execute(f"drop table if exists {name}")


def rebuild(settings: Settings, check: MartCheck, as_of: date, rows: int, scale: float = 1.0) -> None:
    """Replace the mart like a dbt table model: log-normal GMV (seeded by the day), one as-of date."""
    gmv = np.random.default_rng(as_of.toordinal()).lognormal(3.5, 0.6, rows) * scale
    write_mart(settings, check, as_of, gmv)


def write_mart(settings: Settings, check: MartCheck, as_of: date, gmv: np.ndarray) -> None:
    """Replace the mart with these GMV values (to the cent, as the numeric column keeps them)."""
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(f"drop table if exists {check.mart}")
        cur.execute(f"create table {check.mart} (customer text, gmv numeric(14, 2), as_of_ds date)")
        with cur.copy(f"copy {check.mart} (customer, gmv, as_of_ds) from stdin") as copy:
            for i, value in enumerate(gmv):
                copy.write_row((f"c{i}", round(float(value), 2), as_of))


def two_humps(as_of: date, rows: int) -> np.ndarray:
    """Half the customers near 15, half near 55: centred on ~35 like the log-normal day, no mass between."""
    rng = np.random.default_rng(as_of.toordinal())
    return np.concatenate([rng.normal(15, 2, rows // 2), rng.normal(55, 2, rows - rows // 2)])


def gate(settings: Settings, check: MartCheck, ds: date) -> str | None:
    """None when the mart passes, else the error text."""
    try:
        validate_ads(settings, ds, [check])
    except DataQualityError as error:
        return str(error)
    return None


def evaluated(settings: Settings, check: MartCheck, ds: date) -> int:
    """How many expectations the gate ran for ``ds``, passed or failed."""
    try:
        [summary] = validate_ads(settings, ds, [check])
    except DataQualityError as error:
        summary = error.summary
    return summary.partitions[ds].evaluated


def observed(message: str, label_start: str) -> float:
    """The observed value the failure line starting with ``label_start`` reports."""
    return float(message.split(label_start)[1].split("observed ")[1].split()[0])


def shape_divergence(settings: Settings, check: MartCheck, ds: date) -> float:
    """The KL divergence the gate measures for ``ds`` against its baseline (passed or not)."""
    with connect(settings, autocommit=True) as conn:
        frame, base = read_mart(conn, check, ds), baseline(conn, check.mart, ds)
    outcomes = SuiteRunner("qa_shape", mart_suite(check, ds, base)).run(frame)
    [shape] = [o for o in outcomes if o.expectation == KL]
    return float(shape.observed)


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


def test_a_metric_split_into_two_humps_keeps_mean_and_median_but_fails_its_shape(
    gate_settings: Settings, mart: MartCheck
):
    rebuild(gate_settings, mart, D1, 400)
    assert gate(gate_settings, mart, D1) is None

    write_mart(gate_settings, mart, D2, two_humps(D2, 400))
    message = gate(gate_settings, mart, D2)

    assert message is not None and message.startswith(f"ADS {mart.mart}: 1 of 1 partitions failed")
    assert f"{mart.mart} ds=2025-11-02 (400 rows)" in message
    label = "shape of gmv vs 2025-11-01 (10 decile bins, KL divergence <= 0.125)]: observed "
    assert f"{KL} [{label}" in message
    # Today's mass lands in four of yesterday's ten bins (36%, 14%, 9%, 41%): KL measured 1.08.
    assert observed(message, "shape of gmv") > 1.0
    assert "expect_column_mean_to_be_between" not in message, "the mean held (~35 vs ~40, sd ~26)"
    assert "expect_column_median_to_be_between" not in message, "the median held (~35 vs ~33)"
    assert "row count" not in message
    assert evaluated(gate_settings, mart, D2) == 5, "row count, freshness, mean, median, shape"


def test_an_ordinary_day_from_the_same_distribution_passes_its_shape_check(
    gate_settings: Settings, mart: MartCheck
):
    rebuild(gate_settings, mart, D1, 400)
    assert gate(gate_settings, mart, D1) is None
    rebuild(gate_settings, mart, D2, 420)  # a fresh draw of the same log-normal

    assert gate(gate_settings, mart, D2) is None
    assert evaluated(gate_settings, mart, D2) == 5, "the shape check ran"
    # Sampling noise only (about 9/n on average, no empty bins): measured 0.010, well inside 0.125.
    assert 0 < shape_divergence(gate_settings, mart, D2) < mart.drift[0].max_kl / 2


def test_a_baseline_recorded_before_histograms_gates_by_mean_and_median_only(
    gate_settings: Settings, mart: MartCheck, caplog: pytest.LogCaptureFixture
):
    rebuild(gate_settings, mart, D1, 400)
    with connect(gate_settings, autocommit=True) as conn:
        gmv = read_mart(conn, mart, D1)["gmv"]
        old_format = {"gmv": {"mean": gmv.mean(), "median": gmv.median(), "std": gmv.std()}}
        conn.execute(PROFILE_DDL)
        conn.execute(
            "insert into ops.quality_profile (layer, name, ds, row_count, metrics, success) "
            "values ('ADS', %s, %s, %s, %s::jsonb, true)",
            (mart.mart, D1, len(gmv), json.dumps(old_format)),
        )

    rebuild(gate_settings, mart, D2, 400, scale=3.0)
    with caplog.at_level(logging.INFO, logger="ops.quality.ads"):
        message = gate(gate_settings, mart, D2)
    assert message is not None
    assert "expect_column_mean_to_be_between [mean gmv within 1 sd of 2025-11-01" in message
    assert "expect_column_median_to_be_between [median gmv within 1 sd of 2025-11-01" in message
    assert KL not in message
    assert f"{mart.mart}: baseline 2025-11-01 has no histogram of gmv" in caplog.text

    day3, day4 = D1 + timedelta(days=2), D1 + timedelta(days=3)
    rebuild(gate_settings, mart, day3, 400)
    assert gate(gate_settings, mart, day3) is None, "held to the old-format day 1 (day 2 failed)"
    assert evaluated(gate_settings, mart, day3) == 4, "row count, freshness, mean, median"
    rebuild(gate_settings, mart, day4, 400)
    assert evaluated(gate_settings, mart, day4) == 5, "day 3 recorded a histogram: the shape is checked"


def test_a_baseline_with_too_few_values_gets_no_shape_check(
    gate_settings: Settings, mart: MartCheck, caplog: pytest.LogCaptureFixture
):
    rebuild(gate_settings, mart, D1, 100)
    assert gate(gate_settings, mart, D1) is None
    write_mart(gate_settings, mart, D2, two_humps(D2, 100))
    with caplog.at_level(logging.INFO, logger="ops.quality.ads"):
        assert evaluated(gate_settings, mart, D2) == 4
    assert "has 100 values of gmv (< 300): too few for a shape check" in caplog.text


def test_the_histogram_has_decile_edges_open_outer_bins_and_one_bin_per_tied_value():
    # 1..10: the deciles interpolate to 1.9, 2.8, ..., 9.1, so each of the ten bins holds one value,
    # (-inf, 1.9) holding 1 and [9.1, inf) holding 10; the null is not a value.
    spread = histogram_of(pd.Series([*range(1, 11), None], dtype=float))
    assert spread["edges"] == pytest.approx([1.9, 2.8, 3.7, 4.6, 5.5, 6.4, 7.3, 8.2, 9.1])
    assert spread["weights"] == pytest.approx([0.1] * 10)
    assert spread["n"] == 10

    # Six 1s, three 2s, a 3: deciles 1, 1, 1, 1, 1, 1.4, 2, 2, 2.1 dedupe to [1, 1.4, 2, 2.1]. Bins
    # (-inf, 1), [1, 1.4), [1.4, 2), [2, 2.1), [2.1, inf) hold 0, 6, 0, 3, 1 of the 10 values.
    ties = histogram_of(pd.Series([1.0] * 6 + [2.0] * 3 + [3.0]))
    assert ties["edges"] == pytest.approx([1.0, 1.4, 2.0, 2.1])
    assert ties["weights"] == pytest.approx([0.0, 0.6, 0.0, 0.3, 0.1])

    assert histogram_of(pd.Series([4.0, 4.0, 4.0])) == {"edges": [4.0], "weights": [0.0, 1.0], "n": 3}
    assert histogram_of(pd.Series([None, None], dtype=float)) is None


def test_the_shape_check_measures_kl_divergence_as_worked_by_hand():
    """Yesterday: edges [10, 20], shares 0 / 0.5 / 0.5 in (-inf, 10), [10, 20), [20, inf).

    GX's internal_weight_holdout (0.01) goes to the empty bin and scales the others by 0.99, so the
    expected shares are q = 0.01, 0.495, 0.495. Today: 5, 15, 15, 25 and a null (ignored), so the
    observed shares are p = 0.25, 0.5, 0.25, and
        KL(p ‖ q) = 0.25 ln(0.25 / 0.01) + 0.5 ln(0.5 / 0.495) + 0.25 ln(0.25 / 0.495)
                  = 0.25 * 3.218876 + 0.5 * 0.010050 + 0.25 * (-0.683097)
                  = 0.804719 + 0.005025 - 0.170774 = 0.638970,
    over the 0.125 threshold: the value below yesterday's minimum alone contributes 0.80.
    """
    check = MartCheck(
        "ads.qa_hand_worked", drift=(Drift("gmv", min_rows=4, min_baseline_days=1, min_baseline_rows=4),)
    )
    histogram = {"edges": [10.0, 20.0], "weights": [0.0, 0.5, 0.5], "n": 4}
    base = Profile(D1, 4, {"gmv": {"mean": 15.0, "median": 15.0, "std": 5.0, "histogram": histogram}})
    today = pd.DataFrame({"gmv": [5.0, 15.0, 15.0, 25.0, None]})

    outcomes = SuiteRunner("qa_hand_worked", mart_suite(check, D2, base)).run(today)

    [shape] = [o for o in outcomes if o.expectation == KL]
    assert not shape.success
    assert float(shape.observed) == pytest.approx(0.638970, abs=1e-5)
    assert shape.failure.describe() == (
        f"{KL} [shape of gmv vs 2025-11-01 (3 decile bins, KL divergence <= 0.125)]: observed 0.63897"
    )
