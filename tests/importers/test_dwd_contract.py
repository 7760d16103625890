"""Imported records go through the DWD job's own read → classify → to_dwd code on real Spark.

The Olist mapping is landed under the source name the DWD job reads today (``orders``), so this checks
the exact file contract (explicit ODS schema, no inference) rather than a restatement of it.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from pyspark.sql import functions as F

from connectors.importers import MAPPINGS_DIR, import_export
from ops.settings import Settings
from spark_jobs.order_items import PUBLISHED, classify, pseudonymise, read_ods, to_dwd
from storage.lake import Lake
from tests.importers.conftest import DATASETS

START, END = date(2017, 3, 1), date(2017, 3, 7)
SUBSET = DATASETS / "olist" / "subset_2017_10k_orders"


def _expected_items() -> tuple[int, Decimal]:
    """Item rows and their price sum for orders bought in the week (UTC), straight from the CSVs."""
    zone = ZoneInfo("America/Sao_Paulo")
    with open(SUBSET / "olist_orders_dataset.csv", encoding="utf-8", newline="") as fh:
        week = set()
        for order in csv.DictReader(fh):
            bought = datetime.strptime(order["order_purchase_timestamp"], "%Y-%m-%d %H:%M:%S")
            if START <= bought.replace(tzinfo=zone).astimezone(UTC).date() <= END:
                week.add(order["order_id"])
    with open(SUBSET / "olist_order_items_dataset.csv", encoding="utf-8", newline="") as fh:
        prices = [Decimal(i["price"]) for i in csv.DictReader(fh) if i["order_id"] in week]
    return len(prices), sum(prices, Decimal(0))


def test_dwd_job_reads_imported_olist_orders(spark, settings: Settings, tmp_path: Path) -> None:
    own = settings.model_copy(update={"lake_uri_override": (tmp_path / "lake").as_uri()})
    mapping = tmp_path / "olist_as_orders.toml"
    text = (MAPPINGS_DIR / "olist.toml").read_text(encoding="utf-8")
    mapping.write_text(text.replace('name = "olist"', 'name = "orders"'), encoding="utf-8")
    import_export(own, mapping, START, END, data_dir=DATASETS)

    days = [date(2017, 3, d) for d in range(1, 8)]
    records = pseudonymise(read_ods(spark, Lake(own.lake_uri), days), spark, own.pii_hash_key)
    classified = classify(records, START, END).cache()
    fates = Counter(row.fate for row in classified.select("fate").collect())
    assert set(fates) == {PUBLISHED}  # nothing malformed, rejected, superseded or outside the window
    dwd = to_dwd(classified.filter(F.col("fate") == PUBLISHED))
    summary = dwd.agg(
        F.count("*").alias("rows"),
        F.sum("item_amount").alias("gmv"),
        F.count_if(F.col("order_status").isNull()).alias("unmapped_status"),
        F.collect_set("currency").alias("currencies"),
        F.count_if(F.col("customer_key").isNull()).alias("no_customer"),
    ).collect()[0]
    rows, gmv = _expected_items()
    assert (summary.rows, summary.gmv) == (rows, gmv)
    assert summary.unmapped_status == 0  # Olist statuses arrive in the SP-API vocabulary
    assert summary.currencies == ["BRL"]
    assert summary.no_customer == 0
