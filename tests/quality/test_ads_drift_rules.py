"""Drift rules that fit the metric: a minimum baseline, like-with-like for growing metrics, configuration.

A fresh warehouse's second day used to stop at the ADS gate: the current month's cohort size (which grows
every day by construction) was held to a mean band computed from two rows.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest

from ops.quality.ads import MARTS, Drift, MartCheck, configured_marts
from ops.settings import Settings
from storage.warehouse import connect
from tests.quality.test_ads_gate import D1, gate, rebuild


@pytest.fixture
def young_mart(gate_settings: Settings) -> MartCheck:
    name = f"ads.qa_young_{uuid.uuid4().hex[:10]}"
    yield MartCheck(name, drift=(Drift("gmv"),), fresh_column="as_of_ds")  # the default minimums
    with connect(gate_settings, autocommit=True) as conn:
        conn.execute(f"drop table if exists {name}")


def test_drift_stops_a_day_only_after_the_minimum_baseline_of_days(
    gate_settings: Settings, young_mart: MartCheck, caplog: pytest.LogCaptureFixture
):
    rebuild(gate_settings, young_mart, D1, 300)
    assert gate(gate_settings, young_mart, D1) is None
    with caplog.at_level(logging.INFO, logger="ops.quality.ads"):
        # day 2 triples the GMV and the row count: one baseline day is no yardstick yet
        assert gate(gate_settings, young_mart, _rebuilt(gate_settings, young_mart, 1, 700, 3.0)) is None
    assert "drift of gmv not gated yet: baseline 2025-11-01 has 1 passing days and 300 rows" in caplog.text
    assert gate(gate_settings, young_mart, _rebuilt(gate_settings, young_mart, 2, 700, 3.0)) is None

    day4 = _rebuilt(gate_settings, young_mart, 3, 700, 1.0)  # three passing days: the rule applies
    message = gate(gate_settings, young_mart, day4)
    assert message is not None and "[mean gmv within 1 sd of 2025-11-03" in message
    assert "row count within -20%/+100% of 2025-11-03 (700 rows)" not in message


def _rebuilt(settings: Settings, check: MartCheck, offset: int, rows: int, scale: float):
    day = D1 + timedelta(days=offset)
    rebuild(settings, check, day, rows, scale)
    return day


@pytest.fixture
def cohort_mart(gate_settings: Settings) -> MartCheck:
    name = f"ads.qa_cohorts_{uuid.uuid4().hex[:10]}"
    drift = (Drift("cohort_size", key=("marketplace", "cohort_month")),)
    yield MartCheck(name, drift=drift)
    with connect(gate_settings, autocommit=True) as conn:
        conn.execute(f"drop table if exists {name}")


def _cohorts(settings: Settings, check: MartCheck, sizes: dict[tuple[str, str], int]) -> None:
    with connect(settings) as conn:
        conn.execute(f"drop table if exists {check.mart}")
        conn.execute(f"create table {check.mart} (marketplace text, cohort_month date, cohort_size bigint)")
        for (marketplace, month), size in sizes.items():
            conn.execute(f"insert into {check.mart} values (%s, %s, %s)", (marketplace, month, size))


def test_a_growing_cohort_is_compared_with_the_same_cohort_not_with_a_band(
    gate_settings: Settings, cohort_mart: MartCheck
):
    days = [D1 + timedelta(days=n) for n in range(6)]
    growing = [(727, 700), (1106, 1050), (1500, 1400), (1800, 1750), (2100, 2000)]
    for day, (us, de) in zip(days, growing, strict=False):
        _cohorts(gate_settings, cohort_mart, {("US", "2025-11-01"): us, ("DE", "2025-11-01"): de})
        assert gate(gate_settings, cohort_mart, day) is None, day  # +52% a day is how a month fills

    # a new month's cohort appears (no yesterday to compare with) while November's shrinks: lost data
    _cohorts(
        gate_settings,
        cohort_mart,
        {("US", "2025-11-01"): 1500, ("DE", "2025-11-01"): 2000, ("US", "2025-12-01"): 3},
    )
    message = gate(gate_settings, cohort_mart, days[5])
    assert message is not None
    assert (
        "[cohort_size of each marketplace/cohort_month at least 100% of its value on 2025-11-05 "
        "(grows by construction: compared like with like, no mean band)]: 1 unexpected, e.g. 0.714"
    ) in message
    assert "mean cohort_size" not in message and "median cohort_size" not in message


def test_rules_are_configured_per_mart_and_per_metric_from_settings(gate_settings: Settings):
    overrides = {
        "ads.ads_channel_kpis.gmv": {"k": 2.5, "min_baseline_days": 5},
        "ads.ads_channel_kpis": {"max_drop": 0.5},
    }
    configured = {
        c.mart: c
        for c in configured_marts(gate_settings.model_copy(update={"ads_drift_overrides": overrides}))
    }
    kpis = configured["ads.ads_channel_kpis"]
    assert kpis.max_drop == 0.5 and kpis.drift[0] == Drift("gmv", k=2.5, min_baseline_days=5)
    assert kpis.drift[1:] == next(c for c in MARTS if c.mart == "ads.ads_channel_kpis").drift[1:]

    with pytest.raises(ValueError, match=r"names no configured mart or metric: \['ads.nope.gmv'\]"):
        configured_marts(gate_settings.model_copy(update={"ads_drift_overrides": {"ads.nope.gmv": {"k": 2}}}))
    with pytest.raises(ValueError, match=r"unknown fields \['kk'\]"):
        configured_marts(
            gate_settings.model_copy(update={"ads_drift_overrides": {"ads.ads_channel_kpis.gmv": {"kk": 2}}})
        )
