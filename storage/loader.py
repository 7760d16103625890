"""DWD Parquet partitions → Postgres schema ``dwd``, one atomic replace per partition (DESIGN.md §6).

Binary COPY via pgpq is the fastest path measured (DESIGN.md §9 cost table). Each partition is replaced
in a single transaction (create table if missing, delete the day, COPY, verify the count, log the run),
so a crash at any point leaves the previous rows and a rerun leaves exactly the same rows.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
from pgpq import ArrowToPostgresBinaryEncoder
from psycopg import sql

from ops.settings import Settings
from storage.lake import Lake, local_path
from storage.run_log import record_run
from storage.warehouse import connect

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent / "sql"
SCHEMA = "dwd"
PARTITION_COLUMN = "ds"
COPY_BATCH_ROWS = 64_000
_ENTITY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_NUMERIC_RE = re.compile(r"^numeric\((\d+),(\d+)\)$")
_SIMPLE_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "boolean": pa.bool_(),
    "real": pa.float32(),
    "double precision": pa.float64(),
    "date": pa.date32(),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    "timestamp without time zone": pa.timestamp("us"),
}
# Entities whose day partition is sub-partitioned by a directory that is also a Postgres column
# (``dwd/orders/ds=…/source=<source>/``): the directory's value is loaded as that column. Other entities'
# sub-directories (order_item's ``source=``) stay invisible, as their tables have no such column.
SUB_PARTITION_COLUMNS: dict[str, tuple[str, ...]] = {"orders": ("source",)}


class LoadError(RuntimeError):
    """A partition could not be loaded; its transaction was rolled back and the previous rows kept."""


@dataclass(frozen=True)
class PgColumn:
    name: str
    pg_type: str  # as format_type() prints it, e.g. numeric(12,2)


# ---- reading the lake -------------------------------------------------------------------------------
def arrow_location(uri: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and path for a lake URI (Spark's s3a:// is plain s3:// to Arrow)."""
    scheme = urlsplit(uri).scheme
    if scheme in ("", "file"):
        return pafs.LocalFileSystem(), str(local_path(uri))
    if scheme == "s3a":
        uri = "s3://" + uri.split("://", 1)[1]
    return pafs.FileSystem.from_uri(uri)


def read_dwd_partition(settings: Settings, entity: str, day: date) -> pa.Table | None:
    """The rows of one DWD partition plus its ``ds`` column, or None when the partition does not exist.

    Files starting with ``_`` or ``.`` (``_SUCCESS``, checksums) are skipped by the dataset reader.
    """
    fs, path = arrow_location(Lake(settings.lake_uri).dwd_partition(entity, day))
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return None
    sub = SUB_PARTITION_COLUMNS.get(entity, ())
    fields = pa.schema([(column, pa.string()) for column in sub])
    partitioning = pads.partitioning(fields, flavor="hive") if sub else None
    table = pads.dataset(path, filesystem=fs, format="parquet", partitioning=partitioning).to_table()
    return table.append_column(PARTITION_COLUMN, pa.array([day] * table.num_rows, type=pa.date32()))


# ---- Postgres side ----------------------------------------------------------------------------------
def ddl_for(entity: str) -> str:
    """The CREATE TABLE script of a DWD entity (storage/sql/dwd_<entity>.sql)."""
    if not _ENTITY_RE.match(entity):
        raise ValueError(f"invalid entity name {entity!r}")
    path = SQL_DIR / f"dwd_{entity}.sql"
    if not path.exists():
        raise LoadError(f"no DDL for dwd.{entity}: expected {path}")
    return path.read_text()


def table_columns(conn: psycopg.Connection, entity: str) -> list[PgColumn]:
    rows = conn.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a"
        " where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum",
        (f"{SCHEMA}.{entity}",),
    ).fetchall()
    return [PgColumn(name, pg_type) for name, pg_type in rows]


def arrow_type_for(pg_type: str) -> pa.DataType:
    """The Arrow type whose pgpq binary encoding Postgres accepts for ``pg_type``."""
    if pg_type in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[pg_type]
    if pg_type.startswith(("character(", "character varying", "text")):
        return pa.string()
    if match := _NUMERIC_RE.match(pg_type):
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    raise LoadError(f"no Arrow mapping for Postgres type {pg_type!r}")


def conform(table: pa.Table, columns: list[PgColumn], *, where: str) -> pa.Table:
    """Select and cast the Arrow columns to the table's exact types, so the binary COPY matches."""
    missing = [c.name for c in columns if c.name not in table.column_names]
    if missing:
        raise LoadError(f"{where}: Parquet lacks columns {missing} that the Postgres table has")
    extra = sorted(set(table.column_names) - {c.name for c in columns})
    if extra:
        log.warning(
            "%s: Parquet columns %s have no Postgres column (update storage/sql?); not loaded", where, extra
        )
    target = pa.schema([pa.field(c.name, arrow_type_for(c.pg_type)) for c in columns])
    try:
        return table.select([c.name for c in columns]).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise LoadError(f"{where}: cannot cast Parquet columns to the Postgres types: {exc}") from exc


def copy_table(cur: psycopg.Cursor, entity: str, table: pa.Table) -> None:
    """Binary COPY of ``table`` (already conformed) into ``dwd.<entity>``."""
    encoder = ArrowToPostgresBinaryEncoder(table.schema)
    statement = sql.SQL("copy {}.{} ({}) from stdin with (format binary)").format(
        sql.Identifier(SCHEMA),
        sql.Identifier(entity),
        sql.SQL(", ").join(sql.Identifier(name) for name in table.column_names),
    )
    with cur.copy(statement) as copy:
        copy.write(encoder.write_header())
        for batch in table.to_batches(max_chunksize=COPY_BATCH_ROWS):
            copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())


def _replace_partition(conn: psycopg.Connection, entity: str, day: date, table: pa.Table) -> int:
    """One transaction: ensure the table, delete the day, COPY, verify, log. Any error → rollback."""
    where = f"dwd.{entity} ds={day.isoformat()}"
    started = time.monotonic()
    try:
        with conn.transaction():
            loaded_rows = _replace_in_transaction(conn, entity, day, table, where=where, started=started)
    except psycopg.Error as exc:
        detail = " | ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise LoadError(
            f"{where}: {type(exc).__name__}: {detail}; rolled back, the previous rows are unchanged"
        ) from exc
    seconds = time.monotonic() - started
    log.info(
        "loaded %s: %d rows in %.2f s (%.0f rows/s)", where, loaded_rows, seconds, _rate(loaded_rows, seconds)
    )
    return loaded_rows


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else 0.0


def _replace_in_transaction(
    conn: psycopg.Connection, entity: str, day: date, table: pa.Table, *, where: str, started: float
) -> int:
    qualified = sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(entity))
    # Serialise loads of one table: concurrent create-if-missing or delete+copy of one day would race.
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{SCHEMA}.{entity}",))
    conn.execute(ddl_for(entity))
    conformed = conform(table, table_columns(conn, entity), where=where)
    conn.execute(sql.SQL("delete from {} where ds = %s").format(qualified), (day,))
    with conn.cursor() as cur:
        copy_table(cur, entity, conformed)
    loaded_rows = conn.execute(
        sql.SQL("select count(*) from {} where ds = %s").format(qualified), (day,)
    ).fetchone()[0]
    if loaded_rows != table.num_rows:
        raise LoadError(
            f"{where}: {loaded_rows} rows in Postgres after COPY but the Parquet partition has "
            f"{table.num_rows}; rolled back, the previous rows are unchanged"
        )
    seconds = time.monotonic() - started
    record_run(
        conn,
        step="load_dwd",
        entity=entity,
        ds=day,
        rows_in=table.num_rows,
        rows_out=loaded_rows,
        details={"seconds": round(seconds, 3), "rows_per_s": round(_rate(loaded_rows, seconds), 1)},
    )
    return loaded_rows


def load_dwd_partitions(
    settings: Settings, entity: str, days: list[date], *, clear_missing: bool = False
) -> dict[date, int]:
    """Mirror the existing DWD partitions of ``days`` into ``dwd.<entity>``; returns rows per loaded day.

    Days without a Parquet partition are skipped (and logged): there is nothing to publish for them.
    With ``clear_missing`` (jobs that rebuild a window of days and remove the days left without rows)
    such a day is mirrored too: its Postgres rows are deleted, in the same one-transaction replace.
    """
    ddl_for(entity)  # fail fast on an unknown entity, before touching the database
    loaded: dict[date, int] = {}
    with connect(settings, autocommit=True) as conn:
        for day in sorted(set(days)):
            table = read_dwd_partition(settings, entity, day)
            if table is None and not clear_missing:
                log.warning("dwd.%s ds=%s: no Parquet partition in the lake, nothing to load", entity, day)
                continue
            if table is None:
                table = _empty_partition(conn, entity)
            loaded[day] = _replace_partition(conn, entity, day, table)
    return loaded


def _empty_partition(conn: psycopg.Connection, entity: str) -> pa.Table:
    """A zero-row table with the Postgres table's columns: replacing a day with it empties the day."""
    conn.execute(ddl_for(entity))
    return pa.schema(
        [pa.field(c.name, arrow_type_for(c.pg_type)) for c in table_columns(conn, entity)]
    ).empty_table()
