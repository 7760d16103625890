"""
### Mercator training

Once a week, retrains every factory model (`churn`, `ranker`) on the warehouse through the last day
of the run's data interval. Each model is promoted to `champion` only when it beats the baseline and the
current champion on the same test snapshots by its configured margin; otherwise it is the `challenger`
(the decision and its numbers are in MLflow). Until the warehouse holds enough history for a model's
snapshot plan, its task is skipped with the reason in the task log. Scoring from `@champion` happens in
the daily DAG's data, never here.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

MODELS = ("churn", "ranker")


@dag(
    dag_id="mercator_training",
    schedule=CronDataIntervalTimetable("0 3 * * 1", timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 6, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["mercator", "training"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
    doc_md=__doc__,
)
def mercator_training():
    @task
    def train(model: str, data_interval_end=None) -> dict:
        from airflow.exceptions import AirflowSkipException

        from ops.pipeline import train_model
        from ops.settings import get_settings
        from training.factory.splits import InsufficientHistoryError

        try:
            return train_model(get_settings(), model, data_interval_end.date() - timedelta(days=1))
        except InsufficientHistoryError as error:  # a young warehouse is not a failure: skip, say why
            raise AirflowSkipException(str(error)) from error

    for model in MODELS:
        train.override(task_id=f"train_{model}")(model)


mercator_training()
