"""ODS → DWD for the flat operations entities (shop health, ad hours, CRM exposures) on the shared framework.

One day of each source is landed by the real connectors from the real sandbox (with duplicated records),
then conformed by Spark and loaded into Postgres; hand-written ODS files in the served shape cover the
versions, the rejects, the join of exposures to orders and ad hours landed before their advertised ASIN.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from ops.settings import Settings
from spark_jobs.ad_campaign_hourly import SPEC as AD_CAMPAIGN_HOURLY
from spark_jobs.campaign_exposure import SPEC as EXPOSURE
from spark_jobs.entity_job import run_entity
from spark_jobs.entity_spec import EntitySpec, OdsPartitionMissingError
from spark_jobs.entity_write import quarantine_path
from spark_jobs.order_items import run_order_items
from spark_jobs.pii import customer_key
from spark_jobs.shop_health_daily import SPEC as SHOP_HEALTH
from storage.lake import Lake, local_path
from storage.loader import load_dwd_partitions, read_dwd_partition
from storage.warehouse import connect
from tests.spark_jobs.entity_lake import (
    assert_sandbox_day_round_trip,
    land_sandbox_day,
    write_ods,
)

DS = date(2025, 11, 5)  # a CRM send day, so every source has records
SEED = 23


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def _shop_health_row(r: dict[str, Any], key: Any) -> dict[str, Any]:
    return {
        "shop_id": r["shop_id"],
        "snapshot_date": date.fromisoformat(r["date"]),
        "shop_name": r.get("shop_name"),
        "marketplace_id": r["marketplace_id"],
        "sps_score": float(r["sps_score"]),
        "late_dispatch_rate": float(r["late_dispatch_rate"]),
        "cancellation_rate": float(r["cancellation_rate"]),
        "negative_review_rate": float(r["negative_review_rate"]),
        "orders_7d": r.get("orders_7d"),
    }


def _ad_row(r: dict[str, Any], key: Any) -> dict[str, Any]:
    budget = r.get("daily_budget")
    return {
        "campaign_id": r["campaign_id"],
        "stat_time_hour": _ts(r["stat_time_hour"]),
        "campaign_name": r.get("campaign_name"),
        "advertiser_id": r["advertiser_id"],
        "marketplace_id": r["marketplace_id"],
        "asin": r.get("asin"),
        "currency": r["currency"],
        "spend": _money(r["spend"]),
        "impressions": r["impressions"],
        "clicks": r["clicks"],
        "conversions": r["conversions"],
        "gmv": _money(r["gmv"]),
        "daily_budget": None if budget is None else _money(budget),
    }


def _exposure_row(r: dict[str, Any], pii_key: Any) -> dict[str, Any]:
    return {
        "exposure_key": customer_key(r["exposure_id"], pii_key),
        "experiment": r["experiment"],
        "variant": r["variant"],
        "customer_key": customer_key(r["customer_id"], pii_key),
        "marketplace_id": r["marketplace_id"],
        "channel": r["channel"],
        "is_sent": r["is_sent"],
        "touch_cost": _money(r["touch_cost"]).quantize(Decimal("0.0001")),
        "currency": r["currency"],
        "sent_at": _ts(r["sent_at"]),
    }


# entity: (spec, business key of a served record, expected DWD row of a served record)
CASES: dict[str, tuple[EntitySpec, Callable[[dict], tuple], Callable[..., dict]]] = {
    "shop_health_daily": (SHOP_HEALTH, lambda r: (r["shop_id"], r["date"]), _shop_health_row),
    "ad_campaign_hourly": (AD_CAMPAIGN_HOURLY, lambda r: (r["campaign_id"], r["stat_time_hour"]), _ad_row),
    "campaign_exposure": (EXPOSURE, lambda r: (r["exposure_id"],), _exposure_row),
}


@pytest.fixture(scope="module")
def landed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One day of every operations source, landed by the real connectors from a sandbox that duplicates."""
    sources = [spec.source for spec, *_ in CASES.values()]
    yield land_sandbox_day(settings, tmp_path_factory.mktemp("ops-entities") / "lake", sources, SEED, DS)


@pytest.mark.parametrize("entity", list(CASES))
def test_a_sandbox_day_conforms_loads_and_reruns_identically(spark, landed, entity):
    spec, key_of, expected_row = CASES[entity]
    case = (spec, key_of, lambda r: expected_row(r, landed.pii_hash_key))
    seen = assert_sandbox_day_round_trip(spark, landed, case, DS)

    if entity == "ad_campaign_hourly":  # the advertised ASIN of every served hour reaches Postgres
        with connect(landed) as conn:
            pg_asins = conn.execute("select count(asin), count(*) from dwd.ad_campaign_hourly").fetchone()
        assert all(r["asin"] for r in seen.latest.values()) and pg_asins == (len(seen.latest),) * 2

    if entity == "campaign_exposure":  # the clear BuyerId must not reach DWD anywhere
        raw = b"".join(seen.parquet.values())
        for record in seen.served:
            assert record["customer_id"].encode() not in raw, record["customer_id"]
            assert record["customer_id"] not in seen.postgres_text, record["customer_id"]
            assert record["exposure_id"] not in seen.postgres_text


def _exposure(n: int, **changes: Any) -> dict[str, Any]:
    record = {
        "exposure_id": f"winback-2025-11:C{n:07d}",
        "experiment": "winback-2025-11",
        "variant": "coupon",
        "customer_id": f"C{n:07d}",
        "marketplace_id": "ATVPDKIKX0DER",
        "channel": "email",
        "is_sent": True,
        "touch_cost": 0.003,
        "currency": "USD",
        "sent_at": "2025-11-05T09:15:00Z",
    }
    return {**record, **changes}


def test_latest_version_wins_and_untypeable_records_are_quarantined_with_reasons(spark, lake_settings, ods):
    """Versions resolve to the last served one; every bad record lands in quarantine with its reason."""
    lines: list[Any] = [
        _exposure(1, variant="control", is_sent=False, channel=None, touch_cost=0),
        _exposure(2),
        _exposure(1, sent_at="2025-11-05T17:00:00+08:00"),  # later version of 1, at 09:00 UTC
        _exposure(3, touch_cost="abc"),
        _exposure(4, touch_cost=0.00001),  # would be rounded away by numeric(12,4)
        _exposure(5, channel="fax"),
        _exposure(6, sent_at="2025-11-06T00:00:00Z"),  # another day's exposure
        _exposure(7, is_sent="yes"),
        {k: v for k, v in _exposure(8).items() if k != "exposure_id"},
        '{"exposure_id": "winback-2025-11:C0000009", "customer_id": "C0000009", "experi',
        _exposure(10, channel="SMS", currency="usd"),  # conformed, not rejected
        _exposure(2),  # an exact duplicate
    ]
    write_ods(lake_settings, "crm", "campaign_exposure", DS, lines)
    ods.write(DS, [ods.order("111-0000001-0000001", purchased="2025-11-05T08:00:00Z", buyer_no=1)])

    counts = run_entity(spark, lake_settings, EXPOSURE, DS)
    run_order_items(spark, lake_settings, DS)

    assert (counts.rows_in, counts.rows_out, counts.duplicates_dropped, counts.rows_rejected) == (12, 3, 2, 7)
    assert counts.rejected_reasons == {
        "malformed JSON line": 1,
        "missing or untyped key exposure_key": 1,
        "touch_cost is not decimal(12,4)": 2,
        "channel not one of email, sms": 1,
        "sent_at is not on the run's ds": 1,
        "is_sent is not boolean": 1,
    }
    rows = {
        r["customer_key"]: r for r in read_dwd_partition(lake_settings, "campaign_exposure", DS).to_pylist()
    }
    key = lake_settings.pii_hash_key
    assert rows[customer_key("C0000001", key)]["sent_at"] == datetime(2025, 11, 5, 9, tzinfo=UTC)
    assert rows[customer_key("C0000001", key)]["variant"] == "coupon"  # the later line, not the control
    assert rows[customer_key("C0000010", key)]["channel"] == "sms"
    assert rows[customer_key("C0000010", key)]["currency"] == "USD"
    assert rows[customer_key("C0000002", key)]["touch_cost"] == Decimal("0.0030")

    folder = local_path(quarantine_path(Lake(lake_settings.lake_uri), EXPOSURE, DS))
    quarantined = [
        orjson.loads(line)
        for path in sorted(folder.glob("*.json.gz"))
        for line in gzip.decompress(path.read_bytes()).splitlines()
    ]
    assert sorted(q["reason"] for q in quarantined) == sorted(
        reason for reason, n in counts.rejected_reasons.items() for _ in range(n)
    )
    quarantine_text = json.dumps(quarantined)
    for n in range(1, 11):
        assert f"C{n:07d}" not in quarantine_text  # the clear BuyerId stays in ODS

    for entity in ("campaign_exposure", "order_item"):
        load_dwd_partitions(lake_settings, entity, [DS])
    with connect(lake_settings) as conn:
        joined = conn.execute(
            "select e.variant, o.order_id from dwd.campaign_exposure e"
            " join dwd.order_item o using (customer_key) where e.ds = %s and o.ds = %s",
            (DS, DS),
        ).fetchall()
    assert joined == [("coupon", "111-0000001-0000001")]  # exposures join to orders on customer_key


def test_a_missing_ods_day_is_an_error_and_a_fixed_rerun_clears_quarantine(spark, lake_settings):
    with pytest.raises(OdsPartitionMissingError, match="shop_health/shop_health_daily"):
        run_entity(spark, lake_settings, SHOP_HEALTH, DS)
    good = {
        "shop_id": "SHOP-US-01",
        "shop_name": "Mercator US Store 1",
        "marketplace_id": "ATVPDKIKX0DER",
        "date": DS.isoformat(),
        "sps_score": 4.31,
        "late_dispatch_rate": 0.0215,
        "cancellation_rate": 0.011,
        "negative_review_rate": 0.0185,
        "orders_7d": 2000,
    }
    write_ods(lake_settings, "shop_health", "shop_health_daily", DS, [{**good, "sps_score": "n/a"}])
    bad = run_entity(spark, lake_settings, SHOP_HEALTH, DS)
    lake = Lake(lake_settings.lake_uri)
    assert (bad.rows_out, bad.rejected_reasons) == (0, {"sps_score is not double": 1})
    assert local_path(quarantine_path(lake, SHOP_HEALTH, DS)).exists()
    assert not local_path(lake.dwd_partition("shop_health_daily", DS)).exists()

    write_ods(lake_settings, "shop_health", "shop_health_daily", DS, [good])
    fixed = run_entity(spark, lake_settings, SHOP_HEALTH, DS)

    assert (fixed.rows_out, fixed.rows_rejected) == (1, 0)
    assert not local_path(quarantine_path(lake, SHOP_HEALTH, DS)).exists()
    [row] = read_dwd_partition(lake_settings, "shop_health_daily", DS).to_pylist()
    assert row["sps_score"] == 4.31 and row["snapshot_date"] == DS and row["ds"] == DS


def test_ad_hours_landed_before_the_advertised_asin_read_it_as_null(spark, lake_settings):
    """An ODS day landed at ads schema v1 (no ``asin`` field) still conforms: asin is null, none rejected."""
    hour = {
        "campaign_id": "1800000230000",
        "campaign_name": "US Smart+ 001",
        "advertiser_id": "SHOP-US-01",
        "marketplace_id": "ATVPDKIKX0DER",
        "currency": "USD",
        "stat_time_hour": "2025-11-05T13:00:00Z",
        "spend": 12.5,
        "impressions": 4000,
        "clicks": 21,
        "conversions": 1,
        "gmv": 31.9,
        "daily_budget": 150.0,
    }
    later = {**hour, "stat_time_hour": "2025-11-05T14:00:00Z", "asin": "B0J6EKA4H5"}
    write_ods(lake_settings, "ads", "ad_campaign_hourly", DS, [hour, later])

    counts = run_entity(spark, lake_settings, AD_CAMPAIGN_HOURLY, DS)

    assert (counts.rows_out, counts.rows_rejected) == (2, 0)
    rows = read_dwd_partition(lake_settings, "ad_campaign_hourly", DS).to_pylist()
    assert [(r["stat_time_hour"].hour, r["asin"]) for r in rows] == [(13, None), (14, "B0J6EKA4H5")]
    assert load_dwd_partitions(lake_settings, "ad_campaign_hourly", [DS]) == {DS: 2}
