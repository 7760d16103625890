"""The console's only writes, as the ``mercator_console`` role: contact marks and appeal statuses.

The database fills in who (the login) and when; the operator's own name is recorded beside them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date

from ops.console.data import operator
from ops.settings import Settings
from storage.console_schema import APPEAL_STATUSES


def mark_contacted(
    settings: Settings,
    customers: Iterable[tuple[str, str]],
    list_ds: date,
    operator_name: str,
    note: str | None = None,
) -> int:
    """Record each (customer_key, marketplace) as contacted from the list of ``list_ds``."""
    rows = [(key, market, list_ds, operator_name, note or None) for key, market in customers]
    with operator(settings) as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into console.contact_marks (customer_key, marketplace, list_ds, operator_name, note)"
            " values (%s, %s, %s, %s, %s)",
            rows,
        )
    return len(rows)


def set_appeal_status(
    settings: Settings, appeal_id: str, status: str, payload: Mapping[str, object], operator_name: str
) -> None:
    """Give an appeal a new status (a new row: earlier statuses stay as its history)."""
    if status not in APPEAL_STATUSES:
        raise ValueError(f"appeal status {status!r} is not one of {APPEAL_STATUSES}")
    with operator(settings) as conn:
        conn.execute(
            "insert into console.appeal_status (appeal_id, status, payload, operator_name)"
            " values (%s, %s, %s::jsonb, %s)",
            (appeal_id, status, json.dumps(payload, default=str), operator_name),
        )
