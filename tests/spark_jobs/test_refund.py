"""ODS finances refund events → DWD ``refund`` (one row per refunded order line), on real Spark and Postgres.

A sandbox day is landed by the real finances connector from a sandbox that re-serves 25% of records, so
duplicates are real; the sandbox's own truth says which lines were refunded. Hand-written ODS in the served
shape covers re-served events with corrections and every kind of bad record.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest

from connectors.sandbox.truth import refund_truth
from ops.quality.dwd import validate_dwd_partitions
from ops.settings import Settings
from spark_jobs.entity_job import run_entity
from spark_jobs.refund import SPEC as REFUND_SPEC
from storage.lake import Lake, local_path
from storage.loader import load_dwd_partitions, read_dwd_partition
from storage.warehouse import connect
from tests.spark_jobs.entity_lake import land_sandbox_day, ods_records, parquet_bytes, write_ods

DS = date(2025, 11, 5)
SEED = 23
SOURCE, ODS_ENTITY = "finances", "refund_event"


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def expected_rows(served: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The DWD row of every served line, by refund_id; a later served copy replaces an earlier one."""
    rows: dict[str, dict[str, Any]] = {}
    for event in served:
        for line in event["ShipmentItemAdjustmentList"]:
            principal = line["ItemChargeAdjustmentList"][0]["ChargeAmount"]
            refund_id = f"{event['AmazonOrderId']}|{event['PostedDate']}|{line['OrderAdjustmentItemId']}"
            rows[refund_id] = {
                "refund_id": refund_id,
                "amazon_order_id": event["AmazonOrderId"],
                "order_item_id": line["OrderItemId"],
                "asin": line["ASIN"],
                "seller_sku": line["SellerSKU"],
                "quantity": line["QuantityShipped"],
                "refunded_amount": -_money(principal["CurrencyAmount"]),
                "fee_amount": sum(
                    (_money(f["FeeAmount"]["CurrencyAmount"]) for f in line["ItemFeeAdjustmentList"]),
                    Decimal("0.00"),
                ),
                "currency": principal["CurrencyCode"],
                "posted_at": _ts(event["PostedDate"]),
            }
    return rows


COMPARED = ("refund_id", "amazon_order_id", "order_item_id", "asin", "seller_sku", "quantity")
COMPARED += ("refunded_amount", "fee_amount", "currency", "posted_at")


@pytest.fixture(scope="module")
def landed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One posted day of refund events, landed by the real connector from a sandbox that duplicates."""
    yield land_sandbox_day(settings, tmp_path_factory.mktemp("refunds") / "lake", [SOURCE], SEED, DS)


def test_every_served_refund_line_is_one_dwd_row_loaded_and_rerun_identically(spark, landed):
    served = ods_records(landed, SOURCE, ODS_ENTITY, DS)
    expected = expected_rows(served)
    served_lines = sum(len(e["ShipmentItemAdjustmentList"]) for e in served)
    start = datetime(DS.year, DS.month, DS.day, tzinfo=UTC)
    truth = refund_truth(SEED, landed.sandbox_profile, start, start + timedelta(days=1))

    counts = run_entity(spark, landed, REFUND_SPEC, DS)

    assert served_lines > len(expected) > 50  # the sandbox re-served some events; a real day of refunds
    assert len(expected) == len(truth)  # every refunded line the sandbox posted that day was served
    assert (counts.rows_in, counts.rows_out) == (served_lines, len(expected))
    assert counts.duplicates_dropped == served_lines - len(expected)
    assert counts.rows_rejected == 0 and counts.reconciles
    parquet = read_dwd_partition(landed, "refund", DS)
    rows = sorted(parquet.to_pylist(), key=lambda r: r["refund_id"])
    assert [{c: r[c] for c in COMPARED} for r in rows] == [expected[k] for k in sorted(expected)]
    truth_lines = sorted(zip(truth["order_item_id"], truth["marketplace_id"], truth["quantity"], strict=True))
    assert sorted((r["order_item_id"], r["marketplace_id"], r["quantity"]) for r in rows) == truth_lines
    assert sum(r["refunded_amount"] for r in rows) == sum(_money(a) for a in truth["amount"])
    first = parquet_bytes(landed, "refund")
    assert list(first) == [f"ds={DS.isoformat()}"]

    loaded = load_dwd_partitions(landed, "refund", [DS])
    with connect(landed) as conn:
        pg = conn.execute(
            "select count(*), count(distinct refund_id), count(distinct order_item_id), sum(refunded_amount)"
            " from dwd.refund where ds = %s",
            (DS,),
        ).fetchone()
    assert loaded == {DS: len(expected)}
    assert pg == (
        len(rows),
        len(rows),
        len({r["order_item_id"] for r in rows}),
        sum(r["refunded_amount"] for r in rows),
    )

    again = run_entity(spark, landed, REFUND_SPEC, DS)
    assert (again.rows_in, again.rows_out, again.duplicates_dropped) == (
        counts.rows_in,
        counts.rows_out,
        counts.duplicates_dropped,
    )
    assert parquet_bytes(landed, "refund") == first  # byte-identical rerun
    # the DWD quality gate's refund suite passes on the real output
    gate = validate_dwd_partitions(landed, "refund", [DS])
    assert gate.partitions[DS].rows == len(rows) and gate.expectations_evaluated > 5


def _line(n: int, **changes: Any) -> dict[str, Any]:
    line = {
        "OrderItemId": f"OI{n}",
        "OrderAdjustmentItemId": f"ROI{n}",
        "SellerSKU": f"SKU-{n}",
        "ASIN": f"B0REFUND{n:02d}",
        "QuantityShipped": 1,
        "ItemChargeAdjustmentList": [
            {"ChargeType": "Principal", "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -19.99}}
        ],
        "ItemFeeAdjustmentList": [
            {"FeeType": "Commission", "FeeAmount": {"CurrencyCode": "USD", "CurrencyAmount": 3.0}},
            {"FeeType": "RefundCommission", "FeeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -0.6}},
        ],
    }
    return {**line, **changes}


def _event(order: str, lines: Any, posted: str = "2025-11-05T10:00:00Z", **changes: Any) -> dict[str, Any]:
    event = {
        "AmazonOrderId": order,
        "SellerOrderId": order,
        "MarketplaceName": "Amazon.com",
        "PostedDate": posted,
        "ShipmentItemAdjustmentList": lines,
    }
    return {**event, **changes}


def _charge(amount: Any, currency: str = "USD", kind: str = "Principal") -> list[dict[str, Any]]:
    return [{"ChargeType": kind, "ChargeAmount": {"CurrencyCode": currency, "CurrencyAmount": amount}}]


def _quarantined(settings: Settings) -> list[dict[str, Any]]:
    folder = local_path(Lake(settings.lake_uri).ods_quarantine(SOURCE, "dwd_refund", DS))
    return [
        orjson.loads(line)
        for path in sorted(folder.glob("*.json.gz"))
        for line in gzip.decompress(path.read_bytes()).splitlines()
    ]


def test_re_served_events_resolve_and_bad_lines_are_quarantined_with_reasons(spark, lake_settings):
    """A later copy of a line wins; each bad record or line is quarantined naming its partition and record."""
    lines: list[Any] = [
        _event("A-1", [_line(1), _line(2, QuantityShipped=2)]),
        _event("A-2", [_line(3)], MarketplaceName="Amazon.co.uk"),
        _event("A-1", [_line(1, ItemChargeAdjustmentList=_charge(-17.5))]),  # re-served, corrected: wins
        _event("A-2", [_line(3)], MarketplaceName="Amazon.co.uk"),  # exact duplicate
        _event("A-3", [_line(4)], posted="2025-11-05T23:30:00-02:00"),  # 01:30 UTC the next day
        _event("A-4", None),
        _event("A-5", []),
        '{"AmazonOrderId": "A-6", "PostedDate": "2025-11-05T1',
        _event("A-7", [_line(7, ItemChargeAdjustmentList=_charge("abc")), _line(8)]),  # one bad line of two
        _event("A-8", [_line(9, ItemChargeAdjustmentList=_charge(-1.5, kind="Tax"))]),
        _event("A-9", [_line(10, QuantityShipped=0)]),
        _event("A-10", [_line(11)], MarketplaceName="Amazon.example"),
        _event("A-11", [_line(12, ItemChargeAdjustmentList=_charge(-5, currency="GBP"))]),  # fees in USD
        _event("A-12", [_line(13, ItemChargeAdjustmentList=_charge(-0.001))]),
        _event("A-13", [_line(14, ItemChargeAdjustmentList=_charge(2.0))]),  # a charge, not a refund
        _event("A-14", [{k: v for k, v in _line(15).items() if k != "OrderAdjustmentItemId"}]),
        _event("A-15", [_line(16, ItemFeeAdjustmentList=[])], MarketplaceName="Amazon.de"),
    ]
    write_ods(lake_settings, SOURCE, ODS_ENTITY, DS, lines)

    counts = run_entity(spark, lake_settings, REFUND_SPEC, DS)

    assert counts.rejected_reasons == {
        "posted_at is not on the run's ds": 1,
        "ShipmentItemAdjustmentList is missing, empty or not a list": 2,
        "malformed JSON line": 1,
        "a charge amount is not decimal(14,2)": 2,
        "no Principal charge adjustment": 1,
        "quantity is not positive": 1,
        "MarketplaceName Amazon.example is not a known marketplace": 1,
        "charges and fees are not all in one currency": 1,
        "refunded_amount is not positive": 1,
        "missing or untyped key order_adjustment_item_id": 1,
    }
    assert (counts.rows_in, counts.rows_out, counts.duplicates_dropped) == (19, 5, 2)
    assert counts.reconciles
    rows = {r["refund_id"]: r for r in read_dwd_partition(lake_settings, "refund", DS).to_pylist()}
    assert sorted(rows) == sorted(
        f"{order}|2025-11-05T10:00:00Z|{line}"
        for order, line in [
            ("A-1", "ROI1"),
            ("A-1", "ROI2"),
            ("A-2", "ROI3"),
            ("A-7", "ROI8"),
            ("A-15", "ROI16"),
        ]
    )
    assert rows["A-1|2025-11-05T10:00:00Z|ROI1"]["refunded_amount"] == Decimal("17.50")  # the later copy
    assert rows["A-1|2025-11-05T10:00:00Z|ROI2"]["quantity"] == 2
    assert rows["A-1|2025-11-05T10:00:00Z|ROI2"]["fee_amount"] == Decimal("2.40")
    assert rows["A-2|2025-11-05T10:00:00Z|ROI3"]["marketplace_id"] == "A1F83G8C2ARO7P"
    assert rows["A-15|2025-11-05T10:00:00Z|ROI16"]["fee_amount"] == Decimal("0.00")
    assert rows["A-15|2025-11-05T10:00:00Z|ROI16"]["marketplace_id"] == "A1PA6795UKMFR9"

    quarantined = _quarantined(lake_settings)
    assert sorted(q["reason"] for q in quarantined) == sorted(
        reason for reason, n in counts.rejected_reasons.items() for _ in range(n)
    )
    assert all(q["ods_ds"] == DS.isoformat() and q["record"] is not None for q in quarantined)
    bad_line = next(q for q in quarantined if q["AmazonOrderId"] == "A-7")
    assert (bad_line["element"], bad_line["OrderAdjustmentItemId"]) == (0, "ROI7")  # names the line

    write_ods(lake_settings, SOURCE, ODS_ENTITY, DS, [_event("A-1", [_line(1)])])
    fixed = run_entity(spark, lake_settings, REFUND_SPEC, DS)
    assert (fixed.rows_out, fixed.rows_rejected) == (1, 0)
    assert _quarantined(lake_settings) == []  # a fixed rerun leaves no stale rejects
    last_columns = ("refund_id", "marketplace_id", "refunded_amount", "fee_amount", "currency")
    assert REFUND_SPEC.columns[-5:] == last_columns
