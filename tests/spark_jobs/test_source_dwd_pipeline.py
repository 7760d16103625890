"""``ops.pipeline.build_dwd`` then ``load_dwd``: every source entity, including logistics
and the SCD2 catalog, goes ODS → DWD → Postgres, and what is loaded is exactly what the lake holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ops.pipeline import build_dwd, load_dwd
from ops.settings import Settings
from storage.loader import read_dwd_partition
from storage.warehouse import connect
from tests.spark_jobs.entity_lake import land_sandbox_day

SEED = 23
DS = date(2025, 11, 6)
SOURCES = ["asin_metrics", "reviews", "shop_health", "ads", "crm", "logistics", "catalog", "finances"]
NEW = ("tracking_event", "shipment", "catalog_item", "refund")


@pytest.fixture(scope="module")
def landed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield land_sandbox_day(settings, tmp_path_factory.mktemp("source-dwd") / "lake", SOURCES, SEED, DS)


def test_build_dwd_publishes_and_loads_the_logistics_and_catalog_entities(spark, landed):
    summary = build_dwd(landed, DS, DS, SOURCES)
    loaded = load_dwd(landed, summary)

    assert set(NEW) <= set(summary)
    for entity in NEW:
        counts = summary[entity]
        assert counts["rejected"] == 0 and counts["rows_out"] > 0, entity
        assert loaded[entity] == counts["rows_out"], entity  # one landed day: one partition each
        parquet = read_dwd_partition(landed, entity, DS)
        with connect(landed) as conn:
            pg = conn.execute(f"select count(*) from dwd.{entity} where ds = %s", (DS,)).fetchone()[0]
        assert pg == parquet.num_rows == counts["rows_out"], entity
