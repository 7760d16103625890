"""ODS → Spark → GX → Postgres for order items: the path a DAG run takes, and where PII must not go."""

from __future__ import annotations

from datetime import date

from ops.quality.dwd import validate_dwd_partitions
from spark_jobs.order_items import run_order_items
from storage.lake import Lake, local_path
from storage.loader import load_dwd_partitions, read_dwd_partition
from storage.warehouse import connect


def test_dwd_pipeline_publishes_valid_rows_without_clear_text_pii(spark, lake_settings, ods):
    ds = date(2025, 12, 1)
    orders = [
        ods.order(
            f"P-{n}",
            purchased=f"2025-12-01T{n:02d}:30:00Z",
            buyer_no=100 + n,
            status="Shipped" if n % 2 else "Unshipped",
            items=[
                ods.item(f"P-{n}-{j}", qty=j + 1, amount=f"{(j + 1) * 9.99:.2f}") for j in range(n % 3 + 1)
            ],
        )
        for n in range(6)
    ]
    ods.write(ds, orders)
    pii = [value for n in range(6) for value in ods.buyer(100 + n).values()]

    counts = run_order_items(spark, lake_settings, ds)
    summary = validate_dwd_partitions(lake_settings, "order_item", list(counts.partitions))
    loaded = load_dwd_partitions(lake_settings, "order_item", list(counts.partitions))

    assert summary.success and loaded == counts.partitions == {ds: 12}
    parquet = read_dwd_partition(lake_settings, "order_item", ds)
    parquet_text = "\n".join(str(v) for column in parquet.columns for v in column.to_pylist())
    dwd_files = local_path(Lake(lake_settings.lake_uri).dwd_table("order_item")).rglob("*")
    raw_bytes = b"".join(p.read_bytes() for p in dwd_files if p.is_file())
    with connect(lake_settings) as conn:
        pg_text = "\n".join(
            r[0] for r in conn.execute("select t::text from dwd.order_item t where ds = %s", (ds,))
        )
        first_load = conn.execute(
            "select * from dwd.order_item where ds = %s order by order_item_id", (ds,)
        ).fetchall()
    assert len(first_load) == 12
    for value in pii:
        assert value not in parquet_text and value not in pg_text, value
        assert value.encode() not in raw_bytes, value

    run_order_items(spark, lake_settings, ds)
    load_dwd_partitions(lake_settings, "order_item", [ds])
    with connect(lake_settings) as conn:
        second_load = conn.execute(
            "select * from dwd.order_item where ds = %s order by order_item_id", (ds,)
        ).fetchall()
    assert second_load == first_load
