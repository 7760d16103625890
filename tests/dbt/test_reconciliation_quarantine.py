"""ads_reconciliation marks a day the ODS gate fails for its quarantine as not ok.

The run log holds what the ingest logged for each manifest (received, landed, quarantined); the mart is
built by real dbt on a database of the module's own with no DWD data at all.
"""

from __future__ import annotations

from datetime import date

import orjson
import pytest

from ops.settings import Settings
from storage.bootstrap import ensure_databases, ensure_warehouse
from storage.loader import ddl_for
from storage.warehouse import connect
from tests.dbt.reconciliation_run import build, reconciliation_rows

DAY = date(2025, 11, 3)


@pytest.fixture(scope="module")
def wh(settings: Settings) -> Settings:
    own = settings.model_copy(update={"pg_database": "mercator_dbt_quarantine_tests"})
    ensure_databases(own, (own.pg_database,))
    ensure_warehouse(own.warehouse_url)
    with connect(own) as conn:
        conn.execute(ddl_for("order_item"))  # as the first load creates it; dbt's sources test it
    return own


def _ingested(settings: Settings, entity: str, received: int, landed: int) -> None:
    details = orjson.dumps({"checksum_sha256": entity, "requests": 1}).decode()
    with connect(settings) as conn:
        conn.execute(
            "insert into ops.run_log (step, entity, ds, rows_in, rows_out, rows_rejected, details)"
            " values ('ingest', %s, %s, %s, %s, %s, %s::jsonb)",
            (entity, DAY, received, landed, received - landed, details),
        )


def test_a_fully_or_mostly_quarantined_day_is_not_ok(wh: Settings):
    _ingested(wh, "orders.order", 3286, 0)  # the API renamed PurchaseDate: all of it quarantined
    _ingested(wh, "reviews.review", 200, 180)  # 10% quarantined, over the 5% the gate allows
    _ingested(wh, "crm.campaign_exposure", 10, 9)  # one bad record of ten: too few to judge a share
    build(wh)

    rows = {row["entity"]: row for row in reconciliation_rows(wh, f"ds = '{DAY}'")}
    assert rows["order_item"]["status_reason"] == (
        "ods_quarantined: the API sent records and every one went to the quarantine"
    )
    assert rows["review"]["status_reason"] == (
        "ods_quarantined: more of the day went to the quarantine than the ODS gate allows"
    )
    assert not rows["order_item"]["is_ok"] and not rows["review"]["is_ok"]
    assert rows["campaign_exposure"]["status"] != "ods_quarantined"
