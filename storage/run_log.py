"""``ops.run_log``: one row per step run (ingest, Spark DWD job, load), the counts it read and wrote.

The one writer every layer uses (connectors, Spark jobs, the loader): callers pass their open transaction,
so a run's row commits together with the data it describes. ``ads_reconciliation`` reads it back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def record_run(
    conn: psycopg.Connection,
    *,
    step: str,
    entity: str,
    ds: date,
    rows_in: int,
    rows_out: int,
    rows_rejected: int = 0,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one row to ``ops.run_log``."""
    conn.execute(
        "insert into ops.run_log (step, entity, ds, rows_in, rows_out, rows_rejected, details)"
        " values (%s, %s, %s, %s, %s, %s, %s)",
        (step, entity, ds, rows_in, rows_out, rows_rejected, Jsonb(details or {})),
    )


def has_run(conn: psycopg.Connection, *, step: str, entity: str, ds: date, detail: str, value: str) -> bool:
    """Whether a run of ``step`` for ``entity`` and ``ds`` was logged with ``details[detail] == value``."""
    found = conn.execute(
        "select 1 from ops.run_log where step = %s and entity = %s and ds = %s and details->>%s = %s limit 1",
        (step, entity, ds, detail, value),
    ).fetchone()
    return found is not None
