"""DWD Parquet → Postgres: exact types, idempotent reruns, all-or-nothing per partition, run log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from storage import loader
from storage.loader import LoadError, load_dwd_partitions
from storage.warehouse import connect


def pg_rows(settings, day: date) -> list[tuple[Any, ...]]:
    with connect(settings) as conn:
        return conn.execute(
            "select * from dwd.order_item where ds = %s order by order_item_id", (day,)
        ).fetchall()


def load_log(settings, day: date) -> list[tuple[int, int]]:
    with connect(settings) as conn:
        return conn.execute(
            "select rows_in, rows_out from ops.run_log where step = 'load_dwd' and entity = 'order_item'"
            " and ds = %s order by run_id",
            (day,),
        ).fetchall()


def test_rows_land_with_exact_types_and_a_rerun_leaves_identical_rows(lake_settings, partitions):
    day = date(2024, 3, 1)
    partitions.write(day, partitions.rows(day, 3))

    assert load_dwd_partitions(lake_settings, "order_item", [day]) == {day: 3}
    first = pg_rows(lake_settings, day)
    assert load_dwd_partitions(lake_settings, "order_item", [day]) == {day: 3}

    assert pg_rows(lake_settings, day) == first
    row = dict(zip(_columns(lake_settings), first[2], strict=True))
    assert (
        row["quantity"] == 3
        and row["unit_price"] == Decimal("12.34")
        and row["item_amount"] == Decimal("37.02")
    )
    assert row["purchased_at"] == datetime(2024, 3, 1, 8, 15, 30, 123000, tzinfo=UTC)
    assert row["ds"] == day and row["currency"] == "USD" and row["seller_sku"] is None
    assert load_log(lake_settings, day) == [(3, 3), (3, 3)]


def _columns(settings) -> list[str]:
    with connect(settings) as conn:
        return [c.name for c in loader.table_columns(conn, "order_item")]


def _copy_only_two_rows(cur, entity, table):
    loader_copy(cur, entity, table.slice(0, 2))


def _fail_after_first_batch(cur, entity, table):
    loader_copy(cur, entity, table.slice(0, 1))
    raise RuntimeError("worker killed mid-COPY")


loader_copy = loader.copy_table


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        (
            _copy_only_two_rows,
            LoadError,
            r"dwd.order_item ds=2024-03-02: 2 rows in Postgres .* Parquet .* has 5",
        ),
        (_fail_after_first_batch, RuntimeError, "worker killed mid-COPY"),
    ],
)
def test_a_failed_load_keeps_the_previous_rows(lake_settings, partitions, monkeypatch, fault, error, message):
    day = date(2024, 3, 2)
    partitions.write(day, partitions.rows(day, 3, tag="v1"))
    load_dwd_partitions(lake_settings, "order_item", [day])
    before, log_before = pg_rows(lake_settings, day), load_log(lake_settings, day)

    partitions.write(day, partitions.rows(day, 5, tag="v2", status="cancelled"))
    monkeypatch.setattr(loader, "copy_table", fault)
    with pytest.raises(error, match=message):
        load_dwd_partitions(lake_settings, "order_item", [day])

    assert pg_rows(lake_settings, day) == before  # the delete was rolled back with the partial COPY
    assert load_log(lake_settings, day) == log_before
    monkeypatch.undo()
    assert load_dwd_partitions(lake_settings, "order_item", [day]) == {day: 5}  # and a rerun recovers


def test_postgres_rejecting_a_value_is_a_load_error_naming_the_partition(lake_settings, partitions):
    day = date(2024, 3, 3)
    good = partitions.rows(day, 2)
    partitions.write(day, good)
    load_dwd_partitions(lake_settings, "order_item", [day])
    bad = good.set_column(good.schema.get_field_index("currency"), "currency", pa.array(["USD", "DOLLARS"]))
    partitions.write(day, bad)

    with pytest.raises(LoadError, match=r"dwd.order_item ds=2024-03-03: .*character\(3\).*rolled back"):
        load_dwd_partitions(lake_settings, "order_item", [day])
    assert len(pg_rows(lake_settings, day)) == 2


def test_missing_partitions_are_skipped_and_a_missing_table_is_created(lake_settings, partitions):
    with connect(lake_settings) as conn:
        conn.execute("drop table if exists dwd.order_item")
    day = date(2024, 3, 4)
    partitions.write(day, partitions.rows(day, 4))

    assert load_dwd_partitions(lake_settings, "order_item", [day, date(2024, 3, 5)]) == {day: 4}
    with connect(lake_settings) as conn:
        pk = conn.execute(
            "select pg_get_constraintdef(oid) from pg_constraint where conrelid = 'dwd.order_item'::regclass"
            " and contype = 'p'"
        ).fetchone()
    assert pk == ("PRIMARY KEY (ds, order_item_id)",)


def test_unknown_entity_is_refused_before_touching_the_database(lake_settings):
    with pytest.raises(LoadError, match=r"no DDL for dwd\.unknown_entity"):
        load_dwd_partitions(lake_settings, "unknown_entity", [date(2024, 3, 1)])
