"""The exposure log records who, which variant, when and why; first exposure wins; no PII in logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from abtest.analysis import AnalysisConfig, Metric, analyze
from abtest.config import Experiment, Holdout, Variant
from abtest.exposure import EXPOSURE_COLUMNS, ExposureLog
from abtest.splitter import TrafficSplitter

EXP = Experiment("banner", "banner-2024", (Variant("control"), Variant("banner")), traffic=0.5)
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def test_log_keeps_first_exposure_with_variant_time_and_reason():
    splitter = TrafficSplitter(EXP, holdout=Holdout(0.1))
    clock = iter([T0 + timedelta(minutes=i) for i in range(10_000)])
    log = ExposureLog(clock=lambda: next(clock))
    ids = [f"u{i}" for i in range(2000)]
    for u in ids:
        assert log.record(splitter.assign(u, stratum="shoes"), channel="email") is True
    assert log.record(splitter.assign("u0", stratum="shoes")) is False  # repeat
    frame = log.to_dataframe()
    assert list(frame.columns) == list(EXPOSURE_COLUMNS)
    assert len(frame) == len(log) == 2000
    first = frame.set_index("unit_id").loc["u0"]
    assert first["exposed_at"] == pd.Timestamp(T0) and first["repeat_exposures"] == 1
    assert first["channel"] == "email" and first["stratum"] == "shoes"
    assert set(frame["reason"]) == {"assigned", "global_holdout", "outside_traffic_share"}
    assert frame.loc[frame["reason"] != "assigned", "variant"].isna().all()
    assert str(frame["exposed_at"].dt.tz) == "UTC"
    counts = log.counts("banner")
    assert sum(counts.values()) == int((frame["reason"] == "assigned").sum())
    assert set(counts) == {"control", "banner"}
    assert log.counts("other") == {}


def test_late_arriving_earlier_exposure_becomes_the_first():
    log = ExposureLog()
    a = TrafficSplitter(EXP).assign("u-late")
    log.record(a, at=T0 + timedelta(hours=2), channel="push")
    log.record(a, at=T0, channel="email")
    row = log.to_dataframe().iloc[0]
    assert row["exposed_at"] == pd.Timestamp(T0) and row["channel"] == "email"
    assert row["repeat_exposures"] == 1


def test_exposure_times_must_be_timezone_aware_and_are_stored_in_utc():
    log = ExposureLog()
    a = TrafficSplitter(EXP).assign("u1")
    with pytest.raises(ValueError, match="no timezone"):
        log.record(a, at=datetime(2024, 6, 1, 12, 0))
    log.record(a, at=datetime(2024, 6, 1, 20, 0, tzinfo=timezone(timedelta(hours=8))))
    assert next(iter(log)).exposed_at == T0


def test_logs_never_contain_raw_unit_ids(caplog):
    emails = [f"shopper{i}@example.com" for i in range(400)]
    caplog.set_level(logging.DEBUG)
    splitter = TrafficSplitter(EXP)
    frame = splitter.assign_many(emails)
    log = ExposureLog()
    for u in emails[:50]:
        log.record(splitter.assign(u), at=T0)
    log.to_dataframe()
    frame["converted"] = [i % 7 == 0 for i in range(len(frame))]
    analyze(frame, [Metric.mean("cr", "converted")], AnalysisConfig.for_experiment(EXP))
    assert caplog.records, "the modules should log counts"
    assert "@example.com" not in caplog.text and "shopper" not in caplog.text
