"""The demo summary counts every layer table (not the staging views) and reads the operator boards."""

from __future__ import annotations

from datetime import date

from ops.settings import Settings
from ops.summary import layer_row_counts, operator_boards
from storage.bootstrap import ensure_databases, ensure_warehouse
from storage.warehouse import connect


def test_counts_every_layer_table_and_reads_the_boards_that_exist(settings: Settings) -> None:
    own = settings.model_copy(update={"pg_database": "mercator_summary_tests"})
    ensure_databases(own, (own.pg_database,))
    ensure_warehouse(own.warehouse_url)
    with connect(own) as conn:
        conn.execute("create table if not exists dwd.review (review_id text)")
        conn.execute("create or replace view dwd.stg_reviews as select * from dwd.review")
        conn.execute(
            "create table if not exists ads.ads_shop_sps_risk (shop_id text, ds date, risk_tier text)"
        )
        conn.execute("truncate dwd.review, ads.ads_shop_sps_risk")
        conn.execute("insert into dwd.review values ('r1'), ('r2')")
        conn.execute(
            "insert into ads.ads_shop_sps_risk values ('s1', '2025-11-02', 'P0'), ('s1', '2025-11-03', 'P0'),"
            " ('s2', '2025-11-03', 'P0'), ('s3', '2025-11-03', 'safe')"
        )
        conn.commit()

        counts = layer_row_counts(conn)
        boards = operator_boards(conn)

    assert counts["dwd.review"] == 2 and counts["ads.ads_shop_sps_risk"] == 4
    assert "dwd.stg_reviews" not in counts, "staging views are not a layer's rows"
    assert list(counts) == sorted(counts, key=lambda name: ("dwd", "dws", "ads").index(name.split(".")[0]))
    # the newest day only: two P0 shops on 2025-11-03; boards whose marts do not exist are left out
    assert boards == {"shops below the SPS red line (P0)": (2, date(2025, 11, 3))}
