"""What both ads_reconciliation test modules do: build it (and what it needs) and read its rows."""

from __future__ import annotations

import psycopg

from ops.dbt_runner import DbtRunResult, run_dbt
from ops.settings import Settings
from storage.warehouse import connect

MODEL = "ads_reconciliation"


def build(settings: Settings, select: str = f"+{MODEL}") -> DbtRunResult:
    """``dbt build`` of ``select`` (default: the mart and everything upstream), which must pass."""
    result = run_dbt(settings, ["build", "--select", select])
    assert not result.failed, [n.name for n in result.nodes if n.status not in ("pass", "success")]
    return result


def reconciliation_rows(settings: Settings, where: str = "true") -> list[dict]:
    with connect(settings) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(f"select * from ads.{MODEL} where {where} order by source_name, entity, ds")
        return cur.fetchall()
