"""
### Mercator daily

Ingests one business day of orders from the marketplace API, builds DWD with Spark, gates it with
Great Expectations, loads it into Postgres, runs dbt (DWS + ADS with tests), retrains the churn model
(promoted to `champion` only if it beats the baseline and the current champion) and scores customers.
Beside that chain, one mapped task per other source (catalog, ASIN metrics, reviews, logistics, shop
health, ads, CRM) lands the day into ODS (the tasks share the `source_apis` pool); shop health, ads and
CRM exposures are then built into DWD and Postgres, and every campaign experiment whose outcome window
has closed is analysed into `ads.ads_experiment_results`.
Until the warehouse holds enough history for a training snapshot, training and scoring are skipped
with the reason in the task log.

The run's data interval is the business day `ds` (UTC); rerunning a day replaces its partitions.
A failed quality gate stops everything downstream of that day and names the failed expectation.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

# Shared by every mapped source ingest so concurrent runs split one request budget (ops/stack.py creates it).
SOURCE_API_POOL = "source_apis"


def _ds(data_interval_start):
    return data_interval_start.date()


def _settings():
    from ops.settings import get_settings

    return get_settings()


@dag(
    dag_id="mercator_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["mercator", "orders", "churn"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30), "retry_exponential_backoff": True},
    doc_md=__doc__,
)
def mercator_daily():
    @task
    def ingest_orders(data_interval_start=None) -> dict:
        from ops.pipeline import ingest_orders

        return ingest_orders(_settings(), _ds(data_interval_start))

    @task
    def build_dwd(ingested: dict, data_interval_start=None) -> dict:
        from ops.pipeline import build_dwd

        ds = _ds(data_interval_start)
        return build_dwd(_settings(), ds, ds)

    @task
    def validate_dwd(built: dict, data_interval_start=None) -> dict:
        from airflow.exceptions import AirflowFailException

        from ops.pipeline import validate_dwd
        from spark_jobs.quality import DataQualityError

        ds = _ds(data_interval_start)
        try:
            return validate_dwd(_settings(), ds, ds)
        except DataQualityError as error:  # retrying cannot fix bad data: fail at once
            raise AirflowFailException(str(error)) from error

    @task
    def load_dwd(validated: dict, data_interval_start=None) -> dict:
        from ops.pipeline import load_dwd

        ds = _ds(data_interval_start)
        return load_dwd(_settings(), ds, ds)

    @task
    def dbt_build(loaded: dict, data_interval_start=None) -> dict:
        from ops.pipeline import transform

        ds = _ds(data_interval_start)
        return transform(_settings(), ds, ds)

    @task
    def train_churn(transformed: dict, data_interval_start=None) -> dict:
        from airflow.exceptions import AirflowSkipException

        from ops.pipeline import train_churn
        from training.churn.features import InsufficientHistoryError

        try:
            return train_churn(_settings(), _ds(data_interval_start))
        except InsufficientHistoryError as error:  # a young warehouse is not a failure: skip, say why
            raise AirflowSkipException(str(error)) from error

    @task
    def score_churn(trained: dict, data_interval_start=None) -> dict:
        from ops.pipeline import score_churn

        return score_churn(_settings(), _ds(data_interval_start))

    @task
    def list_sources() -> list[str]:
        from ops.pipeline import source_names

        return source_names()

    @task(pool=SOURCE_API_POOL)
    def ingest_source(source: str, data_interval_start=None) -> dict:
        from ops.pipeline import ingest_source

        return ingest_source(_settings(), source, _ds(data_interval_start))

    @task
    def build_source_dwd(data_interval_start=None) -> dict:
        from ops.pipeline import build_source_dwd

        return build_source_dwd(_settings(), _ds(data_interval_start))

    @task
    def analyze_experiments(source_dwd: dict, orders_loaded: dict, data_interval_start=None) -> dict:
        from ops.pipeline import analyze_experiments

        return analyze_experiments(_settings(), _ds(data_interval_start))

    orders_loaded = load_dwd(validate_dwd(build_dwd(ingest_orders())))
    score_churn(train_churn(dbt_build(orders_loaded)))
    source_dwd = build_source_dwd()
    ingest_source.expand(source=list_sources()) >> source_dwd
    analyze_experiments(source_dwd, orders_loaded)


mercator_daily()
