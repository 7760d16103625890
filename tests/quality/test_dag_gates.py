"""The gates sit in the daily DAG where they stop that day's downstream work, and fail without retries.

Structure is read from the parsed DAG; the failure path runs a real gate task's callable against an
empty lake (no full ``airflow dags test``: the e2e test pays for one already).
"""

from __future__ import annotations

import pendulum
import pytest

from ops.settings import Settings

GATES = {
    # gate: (what it must follow, what it must hold back)
    "validate_ods_orders": ("ingest_orders", "build_dwd"),
    "validate_ods_sources": ("ingest_source", "build_source_dwd"),
    "validate_source_dwd": ("build_source_dwd", "load_source_dwd"),
    "validate_ads": ("dbt.ads", "train_churn"),
}


@pytest.mark.parametrize("gate", sorted(GATES))
def test_each_gate_follows_its_layer_and_holds_back_the_next(dag, gate: str):
    after, before = GATES[gate]
    assert after in dag.get_task(gate).upstream_task_ids
    held = dag.get_task(before)
    assert gate in held.upstream_task_ids
    assert held.trigger_rule == "all_success", "a failed gate leaves the step upstream_failed"


def test_the_ads_gate_also_holds_back_scoring(dag):
    assert "score_churn" in dag.get_task("validate_ads").get_flat_relative_ids(upstream=False)


def test_a_failed_expectation_fails_the_task_at_once_naming_it(dag, gate_settings: Settings, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    callable_ = dag.get_task("validate_ods_orders").python_callable
    monkeypatch.setitem(callable_.__globals__, "_settings", lambda: gate_settings)

    with pytest.raises(AirflowFailException) as err:  # not retried: bad data does not heal
        callable_({}, data_interval_start=pendulum.datetime(2025, 11, 8, tz="UTC"))

    assert "ODS orders/order" in str(err.value)
    assert "expect_partition_to_exist [ods/orders/order/ds=2025-11-08 landed]" in str(err.value)
