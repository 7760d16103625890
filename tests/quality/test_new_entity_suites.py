"""DWD suites of tracking events, shipments and the SCD2 catalog: real output passes, broken copies fail.

Two consecutive sandbox days of logistics and catalog are landed by the real connectors and built by the
real Spark jobs in day order, as the DAG does; the second day's build rewrites older partitions too (the
shipments created the day before; for the catalog, any day whose version it closed), and the gate must
check every one of them, judging the catalog's SCD2 rules over all its partitions at once. The
broken lakes are copies of that output with one thing changed (an unknown event code, a duplicated
shipment, overlapping or doubly current catalog versions), so each failure is the only difference.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pendulum
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ops.quality.engine import DataQualityError
from ops.quality.entity_suites import SOURCE_SUITES
from ops.quality.scd2 import Columns, chain_problems, current_problems
from ops.settings import Settings
from spark_jobs import catalog_item, shipment, tracking_event
from spark_jobs.entity_job import days_to_load, run_entity
from spark_jobs.registry import FLAT_ENTITIES
from storage.lake import Lake, local_path
from storage.loader import read_dwd_partition
from tests.quality.conftest import DS, SEED, gate_dwd
from tests.spark_jobs.entity_lake import land_sandbox_day

DAYS = (DS - timedelta(days=1), DS)
SPECS = (tracking_event.SPEC, shipment.SPEC, catalog_item.SPEC)
ENTITIES = tuple(spec.entity for spec in SPECS)
CHAIN = "per (asin, marketplace_id) validity intervals contiguous and non-overlapping"
ONE_CURRENT = "exactly one current version per (asin, marketplace_id)"
BOTH_DAYS = {"catalog_item": {"days": [day.isoformat() for day in DAYS]}}


@pytest.fixture(scope="module")
def two_days(settings: Settings, spark, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict]:
    """The sandbox's logistics and catalog of ``DAYS`` built as the DAG would; the last build's summary.

    Shipments need no run of the first day (the second day's look-back rebuilds both); the SCD2 catalog
    is built day by day, since its history depends on what the table already holds.
    """
    root = tmp_path_factory.mktemp("new-entity-suites")
    for day in DAYS:
        landed = land_sandbox_day(settings, root / "lake", ["logistics", "catalog"], SEED, day)
    landed = landed.model_copy(update={"home": root / "home"})
    run_entity(spark, landed, catalog_item.SPEC, DAYS[0])
    built = {}
    for spec in SPECS:
        counts = run_entity(spark, landed, spec, DS)
        built[spec.entity] = {"days": [d.isoformat() for d in days_to_load(spec, counts)]}
    return landed, built


def partition(settings: Settings, entity: str, day: date) -> pa.Table:
    return read_dwd_partition(settings, entity, day).drop_columns(["ds"])


def write_partition(settings: Settings, entity: str, day: date, table: pa.Table) -> None:
    folder = local_path(Lake(settings.lake_uri).dwd_partition(entity, day))
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-00000.parquet")


def copy_entity(
    source: Settings,
    target: Settings,
    entity: str,
    change: Callable[[date, pa.Table], pa.Table] | None = None,
) -> None:
    """Every partition of ``DAYS`` the source has, changed by ``change(day, table)``, into ``target``."""
    for day in DAYS:
        if read_dwd_partition(source, entity, day) is not None:
            table = partition(source, entity, day)
            write_partition(target, entity, day, change(day, table) if change else table)


def set_value(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    index = table.schema.get_field_index(column)
    values = table[column].to_pylist()
    values[row] = value
    return table.set_column(
        index, table.schema.field(index), pa.array(values, table.schema.field(index).type)
    )


def with_predecessor(current: dict[str, Any], **changes: object) -> Callable[[date, pa.Table], pa.Table]:
    """Adds to the first day's partition a version of ``current``'s listing from a day before it,
    correctly closed by ``current`` unless ``changes`` say otherwise."""

    def change(day: date, table: pa.Table) -> pa.Table:
        if day != DAYS[0]:
            return table
        start = current["valid_from"]
        row = {**current, "valid_from": start - timedelta(days=1), "valid_to": start, "is_current": False}
        return pa.concat_tables([table, pa.Table.from_pylist([{**row, **changes}], schema=table.schema)])

    return change


def a_current_version(settings: Settings) -> dict[str, Any]:
    return partition(settings, "catalog_item", DS).to_pylist()[0]


def test_two_real_days_pass_and_every_partition_the_build_rewrote_is_checked(two_days):
    landed, built = two_days
    assert built["shipment"]["days"] == [d.isoformat() for d in DAYS], "the look-back rewrote both days"
    assert DS.isoformat() in built["catalog_item"]["days"]

    summary = gate_dwd(landed, DS, built, entities=ENTITIES)

    for entity in ENTITIES:
        days = [date.fromisoformat(d) for d in built[entity]["days"]]
        present = [d for d in days if read_dwd_partition(landed, entity, d) is not None]
        assert summary["checked"][entity] == sum(
            read_dwd_partition(landed, entity, d).num_rows for d in present
        )
        assert summary["checked"][entity] > 0
    assert summary["expectations"] == (
        len(SOURCE_SUITES["tracking_event"].checks)
        + 2 * len(SOURCE_SUITES["shipment"].checks)
        + len(built["catalog_item"]["days"]) * len(SOURCE_SUITES["catalog_item"].checks)
    )
    history = gate_dwd(landed, DS, BOTH_DAYS, entities=["catalog_item"])
    assert history["checked"]["catalog_item"] == sum(
        partition(landed, "catalog_item", d).num_rows for d in DAYS
    )


def test_an_unknown_event_code_fails_naming_the_expectation_and_value(two_days, gate_settings: Settings):
    landed, _ = two_days
    copy_entity(
        landed, gate_settings, "tracking_event", lambda day, t: set_value(t, "event_code", 0, "teleported")
    )

    with pytest.raises(DataQualityError) as err:
        gate_dwd(gate_settings, DS, entities=["tracking_event"])

    message = str(err.value)
    assert message.startswith("DWD tracking_event: 1 of 1 partitions failed validation")
    assert (
        "expect_column_values_to_be_in_set [event_code in the unified carrier event codes]: "
        "1 unexpected, e.g. 'teleported'" in message
    )
    assert "[event_code == the mapping of (carrier, carrier_tag, carrier_subtag)]: 1 unexpected" in message


def test_a_duplicate_shipment_in_an_older_rewritten_partition_is_caught_through_the_build_summary(
    two_days, gate_settings: Settings
):
    landed, built = two_days

    def duplicated_on_first_day(day: date, table: pa.Table) -> pa.Table:
        return pa.concat_tables([table, table.slice(0, 1)]) if day == DAYS[0] else table

    copy_entity(landed, gate_settings, "shipment", duplicated_on_first_day)
    assert gate_dwd(gate_settings, DS, entities=["shipment"])["checked"]["shipment"] > 0, (
        "without the build summary only ds is checked, and ds is fine"
    )

    with pytest.raises(DataQualityError) as err:
        gate_dwd(gate_settings, DS, built, entities=["shipment"])

    message = str(err.value)
    assert message.startswith("DWD shipment: 1 of 2 partitions failed validation")
    assert f"shipment ds={DAYS[0].isoformat()}" in message
    assert "expect_column_values_to_be_unique [shipment_id unique]: 2 unexpected" in message


def test_the_dag_task_passes_the_build_summary_to_the_gate(
    two_days, gate_settings: Settings, dag, monkeypatch
):
    from airflow.sdk.exceptions import AirflowFailException

    landed, built = two_days
    copy_entity(landed, gate_settings, "shipment", lambda day, t: pa.concat_tables([t, t.slice(0, 1)]))
    callable_ = dag.get_task("validate_source_dwd").python_callable
    monkeypatch.setitem(callable_.__globals__, "_settings", lambda: gate_settings)

    with pytest.raises(AirflowFailException) as err:
        callable_(
            built, data_interval_start=pendulum.instance(datetime.combine(DS, datetime.min.time(), UTC))
        )

    assert f"shipment ds={DAYS[0].isoformat()}" in str(err.value), "the older rewritten day was checked"


def test_the_gate_checks_the_new_entities_by_default():
    assert set(ENTITIES) <= set(FLAT_ENTITIES) & set(SOURCE_SUITES)


def test_overlapping_catalog_versions_fail_in_both_partitions_naming_the_listing(
    two_days, gate_settings: Settings
):
    landed, _ = two_days
    current = a_current_version(landed)
    listing = f"{current['asin']}/{current['marketplace_id']}"
    copy_entity(landed, gate_settings, "catalog_item", with_predecessor(current))
    assert gate_dwd(gate_settings, DS, BOTH_DAYS, entities=["catalog_item"]), "a valid history"

    overlap = with_predecessor(current, valid_to=current["valid_from"] + timedelta(hours=1))
    copy_entity(landed, gate_settings, "catalog_item", overlap)
    with pytest.raises(DataQualityError) as err:
        gate_dwd(gate_settings, DS, BOTH_DAYS, entities=["catalog_item"])

    message = str(err.value)
    assert message.startswith("DWD catalog_item: 2 of 2 partitions failed validation")
    assert message.count(f"expect_column_values_to_be_null [{CHAIN}]: 1 unexpected, e.g. '{listing}") == 2
    assert "overlaps the next version from" in message and "which overlaps it" in message
    assert ONE_CURRENT not in message, "one version is still current"


def test_two_current_catalog_versions_fail_naming_the_listing(two_days, gate_settings: Settings):
    landed, built = two_days
    current = a_current_version(landed)
    listing = f"{current['asin']}/{current['marketplace_id']}"
    copy_entity(
        landed, gate_settings, "catalog_item", with_predecessor(current, valid_to=None, is_current=True)
    )

    with pytest.raises(DataQualityError) as err:  # the build's own days: the run's day is enough to see it
        gate_dwd(gate_settings, DS, built, entities=["catalog_item"])

    message = str(err.value)
    assert f"catalog_item ds={DS.isoformat()}" in message
    assert (
        f"expect_column_values_to_be_null [{ONE_CURRENT}]: 1 unexpected, e.g. '{listing}: 2 current versions"
        in message
    )
    assert "which stays open past it" in message
    assert "[is_current == (valid_to is null)]" not in message, "each row is consistent on its own"


def _versions(*rows: tuple[str, str, str | None, bool]) -> pd.DataFrame:
    def at(text: str | None) -> pd.Timestamp | None:
        return None if text is None else pd.Timestamp(text, tz="UTC")

    return pd.DataFrame(
        [
            {
                "asin": asin,
                "marketplace_id": "M",
                "valid_from": at(a),
                "valid_to": at(b),
                "is_current": current,
            }
            for asin, a, b, current in rows
        ]
    ).astype({"valid_to": "datetime64[us, UTC]"})


def test_scd2_verdicts_name_gaps_shared_starts_and_listings_without_a_current_version():
    columns = Columns(("asin", "marketplace_id"), "valid_from", "valid_to", "is_current")
    frame = _versions(
        ("A", "2025-11-01", "2025-11-02", False),
        ("A", "2025-11-03", None, True),  # a gap before it
        ("B", "2025-11-01", "2025-11-01", False),
        ("B", "2025-11-01", None, True),  # same start
        ("C", "2025-11-01", "2025-11-02", False),
        ("C", "2025-11-02", "2025-11-04", False),  # closed, nothing after
        ("D", "2025-11-01", "2025-11-05", False),
        ("D", "2025-11-05", None, True),  # fine
    )

    chain, current = chain_problems(frame, columns).tolist(), current_problems(frame, columns).tolist()

    assert chain[0] == (
        "A/M [2025-11-01T00:00:00Z, 2025-11-02T00:00:00Z) leaves a gap before the next version from "
        "2025-11-03T00:00:00Z"
    )
    assert chain[1].startswith("A/M version from 2025-11-03T00:00:00Z follows") and "leaves a gap" in chain[1]
    assert "starts with the next version" in chain[2] and "which starts with it" in chain[3]
    assert chain[4:] == [None] * 4
    assert current == [None] * 5 + [
        "C/M: no current version (the latest is valid to 2025-11-04T00:00:00Z)",
        None,
        None,
    ]


def test_the_gate_reads_an_empty_history_without_error(gate_settings: Settings):
    summary = gate_dwd(gate_settings, DS, {"catalog_item": {"days": []}}, entities=["catalog_item"])
    assert summary["checked"] == {"catalog_item": 0}
    assert not local_path(Lake(gate_settings.lake_uri).dwd_table("catalog_item")).exists()
