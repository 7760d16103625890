"""What the dbt test modules share: a warehouse database of a module's own, and the pinned mart checksums."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

import pytest

from connectors.cursors import ensure_cursor_table
from ops.settings import Settings
from storage.bootstrap import ensure_databases, ensure_warehouse
from storage.table_checksums import TableChecksum, differences, warehouse_checksums
from storage.warehouse import connect

ROOT = Path(__file__).resolve().parents[2]
DWD_DDL = ROOT / "storage" / "sql"
PINNED_CHECKSUMS = Path(__file__).with_name("mart_checksums.json")
PIN_ENV = "MERCATOR_PIN_MART_CHECKSUMS"
# A check-strategy snapshot's dbt_scd_id hashes the build's wall-clock time, so it differs on every build.
UNPINNED = frozenset({"ads.snp_customer_tiers"})

OwnWarehouse = Callable[..., Settings]


@pytest.fixture(scope="session")
def own_warehouse(settings: Settings) -> OwnWarehouse:
    """``own_warehouse(database, dwd_tables=None, **settings)``: the session's settings aimed at a database
    of the caller's own, bootstrapped like the real warehouse, with an empty run log and cursor table and
    the DWD tables of storage/sql named in ``dwd_tables`` (None: all) created empty, so no other module's
    rows leak in. A table left out is one the warehouse has not loaded yet (dbt stands in an empty one)."""

    def make(database: str, dwd_tables: Iterable[str] | None = None, **updates: object) -> Settings:
        own = settings.model_copy(update={"pg_database": database, **updates})
        ensure_databases(own, (database,))
        ensure_warehouse(own.warehouse_url)
        wanted = None if dwd_tables is None else set(dwd_tables)
        with connect(own) as conn:
            ensure_cursor_table(conn)
            conn.execute("truncate ops.run_log")
            conn.execute("delete from ops.connector_cursor")
            for ddl in sorted(DWD_DDL.glob("dwd_*.sql")):
                table = ddl.stem.removeprefix("dwd_")
                if wanted is None or table in wanted:
                    conn.execute(ddl.read_text())
                    conn.execute(f"truncate dwd.{table}")
        return own

    return make


def assert_marts_match_pinned(settings: Settings, world: str) -> None:
    """Every dws/ads table of ``world`` has the rows and checksum pinned in mart_checksums.json.

    A refactor of the dbt project must leave the marts byte for byte as they were (wall-clock columns
    aside, see storage.table_checksums). After an intended change of a mart, rerun the failing module
    with ``MERCATOR_PIN_MART_CHECKSUMS=1`` to pin the new figures, and say in the commit why they moved.
    """
    with connect(settings) as conn:
        current = {
            name: checksum
            for name, checksum in warehouse_checksums(conn, ("dws", "ads")).items()
            if name not in UNPINNED
        }
    pinned_worlds = json.loads(PINNED_CHECKSUMS.read_text()) if PINNED_CHECKSUMS.exists() else {}
    if os.environ.get(PIN_ENV) == "1":
        pinned_worlds[world] = {name: asdict(checksum) for name, checksum in current.items()}
        PINNED_CHECKSUMS.write_text(json.dumps(pinned_worlds, indent=1, sort_keys=True) + "\n")
    assert world in pinned_worlds, f"no checksums pinned for {world!r}: run with {PIN_ENV}=1"
    pinned = {
        name: TableChecksum(rows=c["rows"], checksum=c["checksum"], columns=tuple(c["columns"]))
        for name, c in pinned_worlds[world].items()
    }
    changed = differences(pinned, current)
    assert not changed, f"{world}: marts differ from the pinned checksums ({PIN_ENV}=1 re-pins): {changed}"
