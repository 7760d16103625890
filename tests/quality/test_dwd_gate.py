"""DWD gate for the source entities: the real Spark output passes; broken copies fail, named.

The good partitions are the real jobs' output on a real sandbox day. The broken ones are those very
partitions with one thing changed (a duplicated key, an out-of-range rating or SPS score, a row filed
under the wrong day), written to a test's own lake, so each failure is the only difference.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ops.quality.engine import DataQualityError
from ops.quality.entity_suites import RULES, SOURCE_SUITES
from ops.quality.rules import Range
from ops.settings import Settings
from spark_jobs.entity_job import run_entity
from spark_jobs.registry import FLAT_SPECS as SPECS
from storage.lake import Lake, local_path
from storage.loader import read_dwd_partition
from tests.quality.conftest import DS, gate_dwd

SCD2_COLUMNS = {"valid_to", "is_current"}  # written by the SCD2 publisher, not fields of the spec
# One-day-per-partition entities; shipments and the SCD2 catalog are in test_new_entity_suites.py.
DAILY = ("asin_daily_snapshot", "review", "shop_health_daily", "ad_campaign_hourly", "campaign_exposure")


@pytest.fixture(scope="module")
def built(sandbox_day: Settings, spark) -> Settings:
    """The daily entities of the sandbox day, built by the real Spark jobs."""
    for spec in (spec for spec in SPECS if spec.entity in DAILY):
        counts = run_entity(spark, sandbox_day, spec, DS)
        assert counts.rows_out > 0, spec.entity
    return sandbox_day


def copy_partition(source: Settings, target: Settings, entity: str, change: Callable[[pa.Table], pa.Table]):
    """The real partition, changed, as the only file of ``target``'s partition ``DS``."""
    table = read_dwd_partition(source, entity, DS).drop_columns(["ds"])
    folder = local_path(Lake(target.lake_uri).dwd_partition(entity, DS))
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(change(table), folder / "part-00000.parquet")


def set_value(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    index = table.schema.get_field_index(column)
    values = table[column].to_pylist()
    values[row] = value
    return table.set_column(
        index, table.schema.field(index), pa.array(values, table.schema.field(index).type)
    )


def copy_all(source: Settings, target: Settings, **changes: Callable[[pa.Table], pa.Table]) -> None:
    for entity in DAILY:
        copy_partition(source, target, entity, changes.get(entity, lambda table: table))


def test_suites_are_derived_from_the_job_specs_and_name_real_columns():
    for spec in SPECS:
        suite = SOURCE_SUITES[spec.entity]
        checks = suite.checks
        named = ("column", "column_A", "column_B")
        columns = {check.kwargs[k] for check in checks for k in named if k in check.kwargs}
        ranges = [rule for rule in RULES.get(spec.entity, ()) if isinstance(rule, Range)]
        assert {r.column for r in ranges} <= set(spec.columns) | SCD2_COLUMNS, spec.entity
        assert columns <= {*spec.columns, *SCD2_COLUMNS, "ds", *suite.derived, *suite.table}, spec.entity
        assert any(check.label.endswith("unique") for check in checks), f"{spec.entity} has a key check"
        assert checks[-1].label == f"{spec.partition_by} (UTC date) == ds", "freshness"


def test_the_real_jobs_output_passes_every_suite(built: Settings):
    summary = gate_dwd(built, DS, entities=DAILY)

    assert set(summary["checked"]) == set(DAILY)
    assert min(summary["checked"].values()) > 0
    assert summary["expectations"] == sum(len(SOURCE_SUITES[e].checks) for e in DAILY)


def test_a_duplicate_key_and_an_out_of_range_rating_fail_naming_entity_ds_and_value(
    built: Settings, gate_settings: Settings
):
    def duplicated_with_bad_rating(table: pa.Table) -> pa.Table:
        table = pa.concat_tables([table, table.slice(0, 1)])
        return set_value(table, "rating", 1, 7)

    copy_all(built, gate_settings, review=duplicated_with_bad_rating)

    with pytest.raises(DataQualityError) as err:
        gate_dwd(gate_settings, DS, entities=DAILY)

    message = str(err.value)
    assert message.startswith("DWD review: 1 of 1 partitions failed validation")
    assert "review ds=2025-11-05" in message
    assert "expect_column_values_to_be_unique [review_id unique]: 2 unexpected" in message
    assert "expect_column_values_to_be_between [rating between 1 and 5]: 1 unexpected, e.g. 7" in message
    assert [s.entity for s in err.value.summaries] == ["review"], "the other entities are not blamed"


def test_compound_keys_ranges_and_freshness_are_checked_for_every_entity(
    built: Settings, gate_settings: Settings
):
    def snapshot_duplicate(table: pa.Table) -> pa.Table:
        return pa.concat_tables([table, table.slice(2, 1)])

    def sps_out_of_range(table: pa.Table) -> pa.Table:
        return set_value(table, "sps_score", 0, 6.5)

    def hour_of_another_day_and_a_malformed_asin(table: pa.Table) -> pa.Table:
        table = set_value(table, "asin", 1, "b0-bad")
        return set_value(table, "stat_time_hour", 0, table["stat_time_hour"][0].as_py() - timedelta(days=1))

    def negative_touch_cost(table: pa.Table) -> pa.Table:
        return set_value(table, "touch_cost", 0, table["touch_cost"][0].as_py() * -1 - 1)

    copy_all(
        built,
        gate_settings,
        asin_daily_snapshot=snapshot_duplicate,
        shop_health_daily=sps_out_of_range,
        ad_campaign_hourly=hour_of_another_day_and_a_malformed_asin,
        campaign_exposure=negative_touch_cost,
    )

    with pytest.raises(DataQualityError) as err:
        gate_dwd(gate_settings, DS)

    message = str(err.value)
    assert "[(asin, marketplace_id, snapshot_date) unique]: 2 unexpected" in message
    assert "[sps_score between 0 and 5]: 1 unexpected, e.g. 6.5" in message
    assert "[stat_time_hour (UTC date) == ds]: 1 unexpected, e.g. (2025-11-04, 2025-11-05)" in message
    assert "[asin is a 10-character ASIN]: 1 unexpected, e.g. 'b0-bad'" in message
    assert "DWD campaign_exposure" in message and "[touch_cost >= 0]: 1 unexpected" in message
    assert "DWD review" not in message


def test_a_missing_daily_snapshot_partition_fails_freshness(built: Settings, gate_settings: Settings):
    for entity in DAILY:
        if entity != "shop_health_daily":
            copy_partition(built, gate_settings, entity, lambda table: table)

    with pytest.raises(DataQualityError) as err:
        gate_dwd(gate_settings, DS)

    message = str(err.value)
    assert "DWD shop_health_daily" in message
    assert "expect_partition_to_exist [dwd/shop_health_daily/ds=2025-11-05 exists (freshness)]" in message
    index = (gate_settings.home / "gx_docs" / "index.html").read_text()
    assert "DWD shop_health_daily ds=2025-11-05" in index and "FAILED" in index


def test_an_entity_without_rows_that_day_is_not_blamed_unless_it_is_a_daily_snapshot(gate_settings: Settings):
    summary = gate_dwd(gate_settings, date(2025, 11, 9), entities=["review", "campaign_exposure"])
    assert summary["checked"] == {"review": 0, "campaign_exposure": 0}
