"""A real file export (the Olist subset) imported all the way into DWD, Postgres and the marts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg

from ops.pipeline import import_to_marts
from storage.bootstrap import ensure_databases, ensure_warehouse

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
START, END = date(2017, 3, 1), date(2017, 3, 7)


def test_olist_export_reaches_the_marts(settings, spark, tmp_path):
    own = settings.model_copy(
        update={"home": tmp_path, "warehouse_url_override": settings.embedded_url("mercator_import_marts")}
    )
    ensure_databases(settings, ("mercator_import_marts",))
    ensure_warehouse(own.warehouse_url)

    summary = import_to_marts(own, "olist", START, END, data_dir=DATASETS)

    assert summary["source"] == "olist" and summary["days"] == 7 and summary["landed"] > 0
    with psycopg.connect(own.warehouse_url) as conn:
        items = conn.execute(
            "select ds, count(*), sum(item_amount) filter (where order_status <> 'cancelled')"
            " from dwd.order_item where marketplace = 'BR' group by ds order by ds"
        ).fetchall()
        marts = conn.execute(
            "select d.ds, d.gmv, d.currency, a.gmv from dws.dws_marketplace_daily d"
            " join ads.ads_marketplace_sales_trend a using (marketplace, ds)"
            " where d.marketplace = 'BR' order by d.ds"
        ).fetchall()
        delivered = conn.execute(
            "select count(*) from dwd.order_item where marketplace = 'BR' and order_status = 'delivered'"
        ).fetchone()[0]
        reconciliation = conn.execute(
            "select ds, status_reason from ads.ads_reconciliation where source_name = 'olist' order by ds"
        ).fetchall()
    assert [row[0] for row in items] == [row[0] for row in marts], "every imported day reaches the marts"
    assert all(START <= row[0] <= END for row in items)
    for (_, _, dwd_gmv), (_, dws_gmv, currency, ads_gmv) in zip(items, marts, strict=True):
        assert dws_gmv == dwd_gmv == ads_gmv and currency == "BRL"
    assert sum(row[1] for row in items) == summary["load"]["order_item"]
    assert delivered > 0, "Olist's own 'delivered' survives into the unified status"
    # every imported day reconciles ODS manifest → Spark → Postgres → marts
    assert [row[0] for row in reconciliation] == [row[0] for row in items]
    assert {row[1] for row in reconciliation} == {"ok"}, reconciliation
