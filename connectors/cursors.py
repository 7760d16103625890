"""Incremental cursor state in Postgres (``ops.connector_cursor``), one row per (source, marketplace).

The cursor is a high-water mark of windows landed completely; it moves only forward, only after the
day's manifest is durably published (so a crash can never skip data on the next incremental run) and
never past now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import psycopg

from ops.settings import Settings
from storage.warehouse import connect

CURSOR_DDL = """
create table if not exists ops.connector_cursor (
    source          text        not null,
    marketplace_id  text        not null,
    cursor_value    timestamptz not null,
    updated_at      timestamptz not null default now(),
    primary key (source, marketplace_id)
)
"""

# Never past now (the database's clock): a day ending within the clock-skew allowance stops at now.
ADVANCE_SQL = """
insert into ops.connector_cursor (source, marketplace_id, cursor_value, updated_at)
values (%s, %s, least(%s::timestamptz, now()), now())
on conflict (source, marketplace_id) do update
set cursor_value = greatest(ops.connector_cursor.cursor_value, excluded.cursor_value),
    updated_at = now()
"""


def ensure_cursor_table(conn: psycopg.Connection) -> None:
    conn.execute(CURSOR_DDL)


def read_cursors(
    settings: Settings, source: str, marketplace_ids: Sequence[str]
) -> dict[str, datetime | None]:
    """The current cursor per marketplace (None where the source has never landed)."""
    with connect(settings) as conn:
        ensure_cursor_table(conn)
        rows = conn.execute(
            "select marketplace_id, cursor_value from ops.connector_cursor"
            " where source = %s and marketplace_id = any(%s)",
            (source, list(marketplace_ids)),
        ).fetchall()
    found = dict(rows)
    return {mp: found.get(mp) for mp in marketplace_ids}


def advance_cursors(
    settings: Settings, source: str, values: Mapping[str, datetime], *, conn: psycopg.Connection | None = None
) -> None:
    """Move cursors forward to ``values``, at most to now (never backwards: a backfill keeps the mark)."""
    if conn is not None:
        _advance(conn, source, values)
        return
    with connect(settings) as own:
        _advance(own, source, values)


def _advance(conn: psycopg.Connection, source: str, values: Mapping[str, datetime]) -> None:
    ensure_cursor_table(conn)
    with conn.cursor() as cur:
        cur.executemany(ADVANCE_SQL, [(source, mp, value) for mp, value in values.items()])
