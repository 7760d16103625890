"""The console's test warehouse: the sandbox (seed 42) over the demo window, built into every mart.

The DWD rows come straight from the sandbox generators through the mappers of
``tests/dbt/test_operator_marts.py`` (what the Spark jobs do, without paying for Spark), then one real
``dbt build``. On top: CRM experiment results written by ``abtest.mart``, churn scores in the table the
scoring job writes, and a churn model with a champion and a challenger in a real MLflow database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from abtest.analysis import AnalysisConfig, Metric, analyze
from abtest.mart import write_experiment_results
from connectors.sandbox.calendar import calendar_days
from connectors.sandbox.reviews import reviews_for_day
from ops.dbt_runner import run_dbt
from ops.settings import Settings
from storage.bootstrap import ensure_databases
from storage.warehouse import connect
from tests.conftest import OwnWarehouse
from tests.dbt.test_operator_marts import (
    AD_COLUMNS,
    CATALOG_COLUMNS,
    ORDER_COLUMNS,
    REFUND_COLUMNS,
    REVIEW_COLUMNS,
    SEED,
    SHIPMENT_COLUMNS,
    SHOP_COLUMNS,
    copy_rows,
    sandbox_ad_rows,
    sandbox_catalog_rows,
    sandbox_order_item_rows,
    sandbox_refund_rows,
    sandbox_shipment_rows,
    sandbox_shop_rows,
)

DEFAULTS = Settings.model_fields  # the default demo window (not whatever the environment sets)
FIRST_DAY = date.fromisoformat(DEFAULTS["demo_start"].default)
LAST_DAY = FIRST_DAY + timedelta(days=DEFAULTS["demo_days"].default - 1)
ADS_DAYS = calendar_days(LAST_DAY - timedelta(days=13), LAST_DAY)  # the breaker's 7-day baseline + a week
ORDER_DAYS = calendar_days(LAST_DAY - timedelta(days=27), LAST_DAY)
PARCEL_DAYS = calendar_days(LAST_DAY - timedelta(days=20), LAST_DAY)
MODEL = "mercator_churn"
EXPERIMENTS = {  # name: (analysed on, share of units in treatment): the second fails its SRM check
    "winback-2025-06": (date(2025, 7, 20), 0.5),
    "winback-2025-07": (LAST_DAY, 0.56),
}


def sandbox_review_rows(days: list[date]) -> list[tuple]:
    """Reviews API records -> dwd.review (what spark_jobs.review does)."""
    rows = []
    for day in days:
        for r in reviews_for_day(SEED, day):
            posted = datetime.fromtimestamp(r.posted_at, UTC)
            ids = (r.review_id, r.asin, r.marketplace_id, r.rating, r.title, r.text, r.language, r.verified)
            rows.append((*ids, r.order_id, posted, r.helpful_votes, day))
    return rows


def experiment_units(share: float, seed: int) -> pd.DataFrame:
    """A win-back test: repurchase 10% in control, 12% with the touch, ``share`` of units treated."""
    rng = np.random.default_rng(seed)
    treated = rng.random(6000) < share
    return pd.DataFrame(
        {
            "variant": np.where(treated, "treatment", "control"),
            "repurchased": (rng.random(6000) < np.where(treated, 0.12, 0.10)).astype(int),
            "gmv": rng.gamma(2.0, 20.0, 6000) * treated + rng.gamma(2.0, 19.0, 6000) * ~treated,
        }
    )


def write_experiments(settings: Settings) -> None:
    metrics = [Metric.mean("repurchase_rate", "repurchased"), Metric.mean("gmv_per_customer", "gmv")]
    for n, (name, (day, share)) in enumerate(EXPERIMENTS.items()):
        config = AnalysisConfig(name, "control", {"control": 1, "treatment": 1})
        at = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
        report = analyze(experiment_units(share, n), metrics, config, analysed_at=at)
        write_experiment_results(report, settings.warehouse_url)


def write_churn_scores(settings: Settings) -> None:
    """Scores of every customer on the last two days, as ``training.churn.score`` writes them."""
    from training.churn.score import _DDL, risk_deciles

    with connect(settings) as conn:
        customers = [r[0] for r in conn.execute("select distinct customer_key from ads.ads_customer_value")]
        conn.execute(_DDL)
        rng = np.random.default_rng(7)
        for day, version in ((LAST_DAY - timedelta(days=1), "1"), (LAST_DAY, "2")):
            p = rng.beta(2, 5, len(customers))
            deciles = risk_deciles(p)
            with conn.cursor().copy(
                "copy ads.churn_scores (score_date, customer_key, churn_probability, risk_decile,"
                " model_version) from stdin"
            ) as copy:
                for key, prob, decile in zip(customers, p, deciles, strict=True):
                    copy.write_row((day, key, float(prob), int(decile), version))
        conn.execute("grant select on ads.churn_scores to analyst")


def register_models(tracking_uri: str) -> None:
    """Two runs of the churn model; version 2 is champion, version 1 challenger."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment = client.create_experiment("mercator-churn")
    client.create_registered_model(MODEL)
    for auc in (0.71, 0.78):  # versions 1 and 2
        run = client.create_run(experiment)
        for name, value in {"roc_auc": auc, "baseline_roc_auc": 0.64, "ece": 0.03}.items():
            client.log_metric(run.info.run_id, name, value)
        client.set_terminated(run.info.run_id)
        client.create_model_version(MODEL, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(MODEL, "challenger", "1")
    client.set_registered_model_alias(MODEL, "champion", "2")


def build_world(settings: Settings, own_warehouse: OwnWarehouse, database: str) -> Settings:
    """A warehouse and an MLflow database of their own, every mart built over the demo window."""
    mlflow_db = f"mlflow_{database}"
    ensure_databases(settings, (mlflow_db,))
    tracking_uri = settings.embedded_url(mlflow_db).replace("postgresql://", "postgresql+psycopg://", 1)
    own = own_warehouse(database, console_mlflow_uri_override=tracking_uri)
    copy_rows(own, "ad_campaign_hourly", AD_COLUMNS, sandbox_ad_rows(ADS_DAYS))
    copy_rows(own, "shop_health_daily", SHOP_COLUMNS, sandbox_shop_rows(ADS_DAYS))
    copy_rows(own, "shipment", SHIPMENT_COLUMNS, sandbox_shipment_rows(PARCEL_DAYS))
    copy_rows(own, "order_item", ORDER_COLUMNS, sandbox_order_item_rows(ORDER_DAYS))
    copy_rows(own, "refund", REFUND_COLUMNS, sandbox_refund_rows(ORDER_DAYS[0], LAST_DAY))
    copy_rows(own, "catalog_item", CATALOG_COLUMNS, sandbox_catalog_rows(ORDER_DAYS))
    copy_rows(own, "review", REVIEW_COLUMNS, sandbox_review_rows(ADS_DAYS))
    result = run_dbt(
        own, ["build", "--full-refresh", "--exclude", "resource_type:test", "resource_type:unit_test"]
    )
    assert not result.failed, result
    write_experiments(own)
    write_churn_scores(own)
    register_models(tracking_uri)
    return own
