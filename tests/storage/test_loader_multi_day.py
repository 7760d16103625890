"""Loader additions for multi-day DWD jobs: mirroring emptied partitions, and the new entities' DDL."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from storage.lake import Lake, local_path
from storage.loader import LoadError, load_dwd_partitions
from storage.warehouse import connect


def _count(settings, entity: str, day: date) -> int:
    with connect(settings) as conn:
        return conn.execute(f"select count(*) from dwd.{entity} where ds = %s", (day,)).fetchone()[0]


def test_an_emptied_partition_clears_its_rows_only_when_asked(lake_settings, partitions):
    day, other = date(2024, 4, 1), date(2024, 4, 2)
    folder = partitions.write(day, partitions.rows(day, 3))
    partitions.write(other, partitions.rows(other, 2))
    assert load_dwd_partitions(lake_settings, "order_item", [day, other]) == {day: 3, other: 2}

    shutil.rmtree(folder)  # a window job left this day without rows and removed its partition
    assert load_dwd_partitions(lake_settings, "order_item", [day]) == {}  # default: skipped, kept
    assert _count(lake_settings, "order_item", day) == 3

    assert load_dwd_partitions(lake_settings, "order_item", [day, other], clear_missing=True) == {
        day: 0,
        other: 2,
    }
    assert (_count(lake_settings, "order_item", day), _count(lake_settings, "order_item", other)) == (0, 2)
    with connect(lake_settings) as conn:
        logged = conn.execute(
            "select rows_in, rows_out from ops.run_log where step = 'load_dwd' and entity = 'order_item'"
            " and ds = %s order by run_id desc limit 1",
            (day,),
        ).fetchone()
    assert logged == (0, 0)


@pytest.mark.parametrize(
    ("entity", "primary_key"),
    [
        ("tracking_event", "PRIMARY KEY (ds, event_id)"),
        ("shipment", "PRIMARY KEY (ds, shipment_id)"),
        ("catalog_item", "PRIMARY KEY (ds, asin, marketplace_id)"),
    ],
)
def test_the_new_entities_tables_are_created_with_their_keys(lake_settings, entity, primary_key):
    with connect(lake_settings) as conn:
        conn.execute(f"drop table if exists dwd.{entity}")
    assert load_dwd_partitions(lake_settings, entity, [date(2024, 4, 3)], clear_missing=True) == {
        date(2024, 4, 3): 0
    }
    with connect(lake_settings) as conn:
        pk = conn.execute(
            "select pg_get_constraintdef(oid) from pg_constraint"
            " where conrelid = %s::regclass and contype = 'p'",
            (f"dwd.{entity}",),
        ).fetchone()
    assert pk == (primary_key,)


def _catalog_version(valid_to: datetime | None, is_current: bool) -> pa.Table:
    at = datetime(2024, 4, 4, 9, tzinfo=UTC)
    return pa.table(
        {
            "asin": ["B0TEST0001"],
            "marketplace_id": ["ATVPDKIKX0DER"],
            "version": pa.array([1], pa.int32()),
            "valid_from": pa.array([at], pa.timestamp("us", tz="UTC")),
            "valid_to": pa.array([valid_to], pa.timestamp("us", tz="UTC")),
            "is_current": [is_current],
            "item_name": ["Spatula"],
            "brand": [None],
            "classification_id": [None],
            "category": [None],
            "category_path": [None],
            "release_date": pa.array([None], pa.date32()),
            "list_price": pa.array([None], pa.decimal128(12, 2)),
            "currency": pa.array([None], pa.string()),
            "image_count": pa.array([None], pa.int32()),
            "bullet_point_count": pa.array([None], pa.int32()),
            "has_aplus_content": pa.array([None], pa.bool_()),
            "title_length": pa.array([None], pa.int32()),
            "unit_cost": pa.array([None], pa.decimal128(12, 2)),
            "unit_cost_currency": pa.array([None], pa.string()),
            "fulfillment_channel": pa.array([None], pa.string()),
            "is_sample": pa.array([None], pa.bool_()),
        }
    )


def test_a_catalog_version_whose_flags_disagree_with_its_validity_is_refused(lake_settings):
    day = date(2024, 4, 4)
    folder = local_path(Lake(lake_settings.lake_uri).dwd_partition("catalog_item", day))
    folder.mkdir(parents=True)
    pq.write_table(_catalog_version(None, True), folder / "part-00000.parquet")
    assert load_dwd_partitions(lake_settings, "catalog_item", [day]) == {day: 1}

    closed_but_current = _catalog_version(datetime(2024, 4, 5, tzinfo=UTC), True)
    pq.write_table(closed_but_current, folder / "part-00000.parquet")
    with pytest.raises(LoadError, match=r"dwd.catalog_item ds=2024-04-04: .*check.*rolled back"):
        load_dwd_partitions(lake_settings, "catalog_item", [day])
    assert _count(lake_settings, "catalog_item", day) == 1
