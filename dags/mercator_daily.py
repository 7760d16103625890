"""
### Mercator daily

Ingests one business day of orders from the marketplace API, builds DWD with Spark, gates it with
Great Expectations, loads it into Postgres, runs dbt (DWS + ADS with tests), retrains the churn model
(promoted to `champion` only if it beats the baseline and the current champion) and scores customers.
It also scores the day's ASINs with the breakout ranker's `@champion` (trained weekly by the
`mercator_training` DAG; skipped until one exists) into `ads.ads_asin_breakout_scores` and writes the
ranker's row of `ads.ads_model_monitor` (score PSI, realised NDCG@10 of the scores issued 14 days earlier).
Beside that chain, one task per other source of `connectors.registry` (`ingest_catalog`,
`ingest_reviews`, …) lands the day into ODS, and `ingest_source` joins their counts. Every source task
runs in its API's own one-slot pool (`api_<source>`, created by `mercator up`), so concurrent runs and
backfills share that API's rate budget instead of multiplying it (a mapped task cannot take a pool per
map index, apache/airflow#33657, hence one task per source). A day that already landed is not fetched
again unless the run's settings ask for a full refresh (`mercator run-day --full-refresh`). The source
entities are then built into DWD and Postgres, and every campaign experiment whose outcome window has
closed is analysed into `ads.ads_experiment_results`.
Until the warehouse holds enough history for a training snapshot, training and scoring are skipped
with the reason in the task log.

The run's data interval is the business day `ds` (UTC); rerunning a day replaces its partitions.
Great Expectations gates every layer: `validate_ods_orders` / `validate_ods_sources` (manifest counts,
checksum, schema) before Spark reads ODS, `validate_dwd` / `validate_source_dwd` (keys, ranges, enums,
freshness) on DWD, `validate_ads` (row count and metric drift vs the previous day) after dbt. A failed
gate stops everything downstream of that day and names the layer, partition, expectation and observed
value; data docs are written to `$MERCATOR_HOME/gx_docs/index.html`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import TaskGroup, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from connectors.registry import SOURCES, api_pool

ORDERS = "orders"  # its own task heads the orders chain; the other sources land beside it


def _ds(data_interval_start):
    return data_interval_start.date()


def _settings():
    from ops.settings import get_settings

    return get_settings()


def _gate(step, *args):
    """Run a quality gate; a failed expectation fails the task at once (retrying cannot fix bad data)."""
    from airflow.sdk.exceptions import AirflowFailException

    from ops.quality.engine import DataQualityError

    try:
        return step(_settings(), *args)
    except DataQualityError as error:
        raise AirflowFailException(str(error)) from error


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
    @task(pool=api_pool(ORDERS))
    def ingest_orders(data_interval_start=None) -> dict:
        from ops.pipeline import ingest_source

        return ingest_source(_settings(), ORDERS, _ds(data_interval_start))

    @task
    def build_dwd(ingested: dict, data_interval_start=None) -> dict:
        from ops.pipeline import build_dwd

        ds = _ds(data_interval_start)
        return build_dwd(_settings(), ds, ds, [ORDERS])

    @task
    def validate_dwd(built: dict, data_interval_start=None) -> dict:
        from ops.quality.gates import validate_dwd

        ds = _ds(data_interval_start)
        return _gate(validate_dwd, ds, ds, built)

    @task
    def load_dwd(built: dict) -> dict:
        from ops.pipeline import load_dwd

        return load_dwd(_settings(), built)

    @task
    def dbt_build(layer: str, upstream: list[dict], data_interval_start=None) -> dict:
        from ops.pipeline import transform

        ds = _ds(data_interval_start)
        return transform(_settings(), ds, ds, layer)

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
    def score_ranker(transformed: dict, data_interval_start=None) -> dict:
        """Tomorrow's breakout ASINs from the ranker's @champion (trained by the mercator_training DAG)."""
        from airflow.exceptions import AirflowSkipException

        from ops.pipeline import score_model
        from training.registry import NoChampionError

        try:
            return score_model(_settings(), "ranker", _ds(data_interval_start))
        except NoChampionError as error:  # no ranker trained yet: skip, say why
            raise AirflowSkipException(str(error)) from error

    @task
    def monitor_ranker(scored: dict, data_interval_start=None) -> dict:
        from ops.pipeline import monitor_model

        return monitor_model(_settings(), "ranker", _ds(data_interval_start))

    @task
    def ingest_one_source(source: str, data_interval_start=None) -> dict:
        from ops.pipeline import ingest_source

        return ingest_source(_settings(), source, _ds(data_interval_start))

    @task
    def ingest_source(landed: list[dict]) -> dict:
        """Every source's day landed: one place with the counts in and out of each."""
        import logging

        joined = {summary["source"]: summary["entities"] for summary in landed}
        logging.getLogger("mercator.ingest").info("%d sources landed: %s", len(joined), joined)
        return joined

    @task
    def build_source_dwd(data_interval_start=None) -> dict:
        from ops.pipeline import build_dwd

        ds = _ds(data_interval_start)
        return build_dwd(_settings(), ds, ds, [s for s in SOURCES if s != ORDERS])

    @task
    def load_source_dwd(built: dict) -> dict:
        from ops.pipeline import load_dwd

        return load_dwd(_settings(), built)

    @task
    def analyze_experiments(source_dwd: dict, orders_loaded: dict, data_interval_start=None) -> dict:
        from ops.pipeline import analyze_experiments

        return analyze_experiments(_settings(), _ds(data_interval_start))

    # Quality gates (ops/quality/gates.py): each is an extra upstream of the step it protects.
    @task
    def validate_ods_orders(ingested: dict, data_interval_start=None) -> dict:
        from ops.quality.gates import validate_ods_sources

        return _gate(validate_ods_sources, _ds(data_interval_start), [ORDERS])

    @task
    def validate_ods_sources(data_interval_start=None) -> dict:
        from ops.quality.gates import validate_ods_sources

        return _gate(validate_ods_sources, _ds(data_interval_start), [s for s in SOURCES if s != ORDERS])

    @task
    def validate_source_dwd(source_dwd: dict, data_interval_start=None) -> dict:
        from ops.quality.gates import validate_dwd

        ds = _ds(data_interval_start)
        return _gate(validate_dwd, ds, ds, source_dwd)

    @task
    def validate_ads(transformed: dict, data_interval_start=None) -> dict:
        from ops.quality.gates import validate_ads

        return _gate(validate_ads, _ds(data_interval_start))

    ingested = ingest_orders()
    built = build_dwd(ingested)
    validate_ods_orders(ingested) >> built
    orders_loaded = load_dwd(built)
    validate_dwd(built) >> orders_loaded
    source_dwd = build_source_dwd()
    source_loaded = load_source_dwd(source_dwd)
    validate_source_dwd(source_dwd) >> source_loaded
    # dbt as a task group, one task per layer (models + their tests), after every DWD table is loaded
    with TaskGroup("dbt", tooltip="dbt build per layer; per-model rows and tests in each task's XCom"):
        dws = dbt_build.override(task_id="dws")("dws", [orders_loaded, source_loaded])
        transformed = dbt_build.override(task_id="ads")("ads", [dws])
    trained = train_churn(transformed)
    validate_ads(transformed) >> trained
    score_churn(trained)
    ranked = score_ranker(transformed)
    validate_ads(transformed) >> ranked
    monitor_ranker(ranked)
    sources_landed = ingest_source(
        [
            ingest_one_source.override(task_id=f"ingest_{source}", pool=api_pool(source))(source)
            for source in SOURCES
            if source != ORDERS
        ]
    )
    sources_landed >> source_dwd
    sources_landed >> validate_ods_sources() >> source_dwd
    analyze_experiments(source_loaded, orders_loaded)


mercator_daily()
