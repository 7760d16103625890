"""Order-independent checksums of warehouse tables, to prove two runs left the same rows.

Refactors ("behaviour unchanged"), reruns ("a rerun changes nothing") and the chaos suite ("a killed run,
rerun, equals a clean run") all compare every ``dwd``/``dws``/``ads`` table of one warehouse with
another's. Wall-clock columns (when a row was processed or a snapshot version captured) differ between
runs by nature and are left out; everything else must match byte for byte.

    python -m storage.table_checksums postgresql://…/mercator > before.json
    python -m storage.table_checksums postgresql://…/mercator --compare before.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql

CHECKED_SCHEMAS = ("dwd", "dws", "ads")
# Columns stamped with the wall-clock time of the run that wrote the row (or, like a dbt snapshot's
# ``dbt_scd_id``, hashed from it), never business data.
WALL_CLOCK_COLUMNS = frozenset(
    {"processed_at", "loaded_at", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_scd_id"}
)


@dataclass(frozen=True)
class TableChecksum:
    rows: int
    checksum: str
    columns: tuple[str, ...]


def _tables(conn: psycopg.Connection, schemas: Iterable[str]) -> list[tuple[str, str]]:
    return conn.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
        (list(schemas),),
    ).fetchall()


def _columns(conn: psycopg.Connection, schema: str, table: str) -> tuple[str, ...]:
    rows = conn.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = %s order by column_name",
        (schema, table),
    ).fetchall()
    return tuple(name for (name,) in rows if name not in WALL_CLOCK_COLUMNS)


def table_checksum(conn: psycopg.Connection, schema: str, table: str) -> TableChecksum:
    """Rows and an md5 over the sorted md5s of each row's text (column order fixed by name)."""
    columns = _columns(conn, schema, table)
    row_text = sql.SQL("md5(row({})::text)").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
    query = sql.SQL(
        "select count(*), coalesce(md5(string_agg(h, '' order by h)), '') from (select {} as h from {}) t"
    ).format(row_text, sql.Identifier(schema, table))
    rows, checksum = conn.execute(query).fetchone()
    return TableChecksum(rows=rows, checksum=checksum, columns=columns)


def warehouse_checksums(
    conn: psycopg.Connection, schemas: Iterable[str] = CHECKED_SCHEMAS
) -> dict[str, TableChecksum]:
    """``schema.table`` → checksum for every base table of the schemas."""
    return {
        f"{schema}.{table}": table_checksum(conn, schema, table) for schema, table in _tables(conn, schemas)
    }


def differences(before: dict[str, TableChecksum], after: dict[str, TableChecksum]) -> list[str]:
    """One line per table that is missing on one side or whose rows or checksum differ."""
    lines = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old is None or new is None:
            lines.append(f"{name}: only {'after' if old is None else 'before'}")
        elif old != new:
            lines.append(f"{name}: rows {old.rows} → {new.rows}, checksum {old.checksum} → {new.checksum}")
    return lines


def _load(path: Path) -> dict[str, TableChecksum]:
    return {
        name: TableChecksum(rows=v["rows"], checksum=v["checksum"], columns=tuple(v["columns"]))
        for name, v in json.loads(path.read_text()).items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="libpq URL of the warehouse (read access to dwd, dws, ads)")
    parser.add_argument("--compare", type=Path, help="a JSON file printed earlier: list the differences")
    args = parser.parse_args(argv)
    with psycopg.connect(args.url) as conn:
        current = warehouse_checksums(conn)
    if args.compare is None:
        json.dump({name: asdict(c) for name, c in current.items()}, sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    diff = differences(_load(args.compare), current)
    print("\n".join(diff) if diff else f"{len(current)} tables identical")
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main())
