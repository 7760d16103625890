"""Point-in-time churn features and labels on the synthetic history in a real Postgres."""

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from storage.warehouse import connect
from tests.training.synthetic import MARKETPLACES, order_rows
from training.churn.features import (
    FEATURE_COLUMNS,
    InsufficientHistoryError,
    build_features,
    build_training_set,
    latest_trainable_snapshot,
)
from training.churn.train import train_churn


def _insert(conn, rows):
    with conn.cursor() as cur:
        cur.executemany(f"insert into dwd.order_item values ({', '.join(['%s'] * 18)})", rows)


def _at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_nothing_at_or_after_snapshot_reaches_features(training_settings, churn_history):
    snapshot = churn_history.start + timedelta(days=60)
    with connect(training_settings) as conn:
        before = build_features(conn, snapshot)
        cust = before.index[0]
        market = MARKETPLACES[0]
        # a purchase exactly at S, one later, and an earlier order whose cancellation is recorded after S
        _insert(conn, order_rows(cust, "FUT-1", _at(snapshot), market, ["B0FUTURE01"], prices=[999.0]))
        _insert(conn, order_rows(cust, "FUT-2", _at(snapshot + timedelta(days=3)), market, ["B0FUTURE02"]))
        late = _at(snapshot - timedelta(days=2))
        _insert(
            conn,
            order_rows(cust, "LATE-X", late, market, ["B0LATECNX"], "cancelled", updated_at=_at(snapshot, 5)),
        )
        with_late_cancel = build_features(conn, snapshot)
        after = build_features(conn, snapshot + timedelta(days=4))
        conn.rollback()
    # only the order cancelled after S is visible at S (it was a live order then): nothing from S onwards
    others = with_late_cancel.drop(index=cust)
    pd.testing.assert_frame_equal(others, before.drop(index=cust))
    assert with_late_cancel.loc[cust, "frequency"] == before.loc[cust, "frequency"] + 1
    assert with_late_cancel.loc[cust, "recency_days"] == pytest.approx(2.0)
    assert with_late_cancel.loc[cust, "monetary"] == pytest.approx(before.loc[cust, "monetary"] + 20.0)
    # once S moves past them the future orders count (the filter is the date, not the order ids)
    assert after.loc[cust, "frequency"] >= before.loc[cust, "frequency"] + 2


def test_features_and_label_of_a_known_customer(training_settings, churn_history):
    snapshot = churn_history.start + timedelta(days=90)
    cust = "f" * 64
    us, de = MARKETPLACES[0], MARKETPLACES[2]
    rows = (
        order_rows(
            cust, "K-1", _at(snapshot - timedelta(days=40)), us, ["B0K0000001", "B0K0000002"], prices=[10, 30]
        )
        + order_rows(cust, "K-2", _at(snapshot - timedelta(days=20)), us, ["B0K0000001"], prices=[20])
        + order_rows(cust, "K-3", _at(snapshot - timedelta(days=10)), de, ["B0K0000003"], prices=[60])
        + order_rows(
            cust, "K-C", _at(snapshot - timedelta(days=5)), us, ["B0K0000009"], "cancelled", prices=[500]
        )
        + order_rows(cust, "K-4", _at(snapshot) + timedelta(days=29, hours=23), us, ["B0K0000004"])
    )
    with connect(training_settings) as conn:
        _insert(conn, rows)
        labelled = build_training_set(conn, snapshot, horizon_days=30)
        later = build_training_set(conn, snapshot + timedelta(days=30), horizon_days=30)
        conn.rollback()
    got = labelled.loc[cust]
    expected = {
        "recency_days": 10,
        "tenure_days": 40,
        "frequency": 3,
        "monetary": 120,
        "avg_order_value": 40,
        "avg_days_between_orders": 15,
        "overdue_ratio": 10 / 15,
        "orders_last_30d": 2,
        "orders_last_90d": 3,
        "monetary_last_30d": 80,
        "units": 4,
        "distinct_asins": 3,
        "distinct_marketplaces": 2,
        "top_marketplace_share": 2 / 3,
        "items_per_order": 4 / 3,
        "cancelled_order_share": 1 / 4,
    }
    assert set(expected) == set(FEATURE_COLUMNS)
    assert got[list(expected)].to_dict() == pytest.approx(expected)
    assert got["churned"] == 0  # bought at S + 29d 23h, inside [S, S + 30d)
    assert later.loc[cust, "churned"] == 1  # from S + 30 d nothing follows K-4
    assert later.loc[cust, "frequency"] == 4 and later.loc[cust, "recency_days"] == pytest.approx(1 / 24)


def test_not_enough_history_is_a_clear_error(training_settings, churn_history):
    horizon = training_settings.churn_horizon_days
    early = churn_history.start + timedelta(days=44)  # 45 days of purchases
    with pytest.raises(InsufficientHistoryError, match=f"need {30 + horizon} days, have 45"):
        latest_trainable_snapshot(training_settings, early)
    with pytest.raises(InsufficientHistoryError, match=f"need {30 + 2 * horizon} days, have 45"):
        train_churn(training_settings, early)
    before_any = churn_history.start - timedelta(days=1)
    with pytest.raises(InsufficientHistoryError, match="have 0"):
        latest_trainable_snapshot(training_settings, before_any)
    # with enough history the snapshot is the latest one whose label window closes by the end of as_of
    snapshot = latest_trainable_snapshot(training_settings, churn_history.as_of)
    assert snapshot + timedelta(days=horizon) == churn_history.as_of + timedelta(days=1)
