"""Table checksums: equal for the same rows in any order, different for one changed value or row."""

from __future__ import annotations

import psycopg
import pytest

from ops.settings import Settings
from storage.table_checksums import differences, main, warehouse_checksums
from storage.warehouse import libpq_url


@pytest.fixture()
def conn(settings: Settings):
    with psycopg.connect(libpq_url(settings.warehouse_url), autocommit=True) as connection:
        connection.execute("drop schema if exists cks cascade")
        connection.execute("create schema cks")
        yield connection
        connection.execute("drop schema cks cascade")


def _fill(conn: psycopg.Connection, table: str, rows: list[tuple[int, str]]) -> None:
    conn.execute(f"create table cks.{table} (id int, name text, processed_at timestamptz default now())")
    with conn.cursor() as cur:
        cur.executemany(f"insert into cks.{table} (id, name) values (%s, %s)", rows)


def test_same_rows_in_another_order_and_time_match(conn: psycopg.Connection) -> None:
    _fill(conn, "t", [(1, "a"), (2, "b"), (3, None)])
    before = warehouse_checksums(conn, ["cks"])
    conn.execute("drop table cks.t")
    _fill(conn, "t", [(3, None), (2, "b"), (1, "a")])  # another insert order, later processed_at
    after = warehouse_checksums(conn, ["cks"])
    assert before["cks.t"].rows == 3
    assert "processed_at" not in before["cks.t"].columns
    assert differences(before, after) == []


def test_a_changed_value_an_extra_row_and_a_missing_table_are_reported(conn: psycopg.Connection) -> None:
    _fill(conn, "t", [(1, "a"), (2, "b")])
    _fill(conn, "gone", [(1, "x")])
    before = warehouse_checksums(conn, ["cks"])
    conn.execute("update cks.t set name = 'B' where id = 2")
    conn.execute("drop table cks.gone")
    changed = warehouse_checksums(conn, ["cks"])
    conn.execute("insert into cks.t (id, name) values (3, 'c')")
    grown = warehouse_checksums(conn, ["cks"])
    lines = differences(before, changed)
    assert lines[0] == "cks.gone: only before"
    assert lines[1].startswith("cks.t: rows 2 → 2, checksum ")
    assert differences(changed, grown)[0].startswith("cks.t: rows 2 → 3")


def test_cli_compares_with_a_saved_file(settings: Settings, tmp_path, capsys) -> None:
    url = libpq_url(settings.warehouse_url)
    assert main([url]) == 0
    saved = tmp_path / "before.json"
    saved.write_text(capsys.readouterr().out)
    assert main([url, "--compare", str(saved)]) == 0
    assert capsys.readouterr().out.strip().endswith("tables identical")
