"""Churn training, promotion and scoring against a real MLflow (Postgres backend) and warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import mlflow
import pytest

from storage.warehouse import connect
from training.churn import MODEL_NAME
from training.churn.features import FEATURE_COLUMNS
from training.churn.score import score_churn
from training.churn.train import DEFAULT_LGB_PARAMS, ChurnTrainConfig, TrainResult, train_churn
from training.mlflow_setup import mlflow_client
from training.monitor import monitor_churn
from training.registry import NoChampionError


@pytest.fixture(scope="module")
def first_run(training_settings, churn_history) -> TrainResult:
    """One real training run on an empty registry (runs cost seconds, so tests share it)."""
    return train_churn(training_settings, churn_history.as_of)


def test_first_run_is_registered_champion_and_beats_baseline(training_settings, churn_history, first_run):
    assert first_run.version == "1"
    assert first_run.promoted and "champion" in first_run.aliases
    assert first_run.metrics["roc_auc"] > first_run.baseline_metrics["roc_auc"]
    assert first_run.metrics["roc_auc"] > 0.7
    assert 0 <= first_run.metrics["ece"] < 0.1
    assert first_run.plan.train and max(first_run.plan.train) < first_run.plan.holdout

    client = mlflow_client(training_settings)
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == "1"
    info = mlflow.models.get_model_info(f"models:/{MODEL_NAME}@champion")
    assert info.signature is not None
    assert info.signature.inputs.input_names() == list(FEATURE_COLUMNS)
    run = client.get_run(first_run.run_id)
    assert run.data.metrics["baseline_roc_auc"] == pytest.approx(first_run.baseline_metrics["roc_auc"])
    assert run.data.params["feature_set_version"] == "churn_features_v1"
    assert "postgresql" not in " ".join(run.data.params.values())  # no tracking URI (or password) logged
    artifacts = {a.path for a in client.list_artifacts(first_run.run_id)}
    assert {"model_card.md", "plots", "feature_importance.json"} <= artifacts
    experiment = client.get_experiment(run.info.experiment_id)
    assert (
        experiment.artifact_location == (training_settings.mlflow_artifacts_dir / "mercator-churn").as_uri()
    )


def test_beats_baseline_not_champion_stays_challenger(training_settings, churn_history, first_run):
    # an underfit model (4 leaves, 30 rounds): better than the recency rule, worse than version 1
    underfit = ChurnTrainConfig(lgb_params={**DEFAULT_LGB_PARAMS, "num_leaves": 4}, num_boost_round=30)
    second = train_churn(training_settings, churn_history.as_of, underfit)
    assert second.version == "2"
    assert second.baseline_metrics["roc_auc"] < second.metrics["roc_auc"] < first_run.metrics["roc_auc"]
    assert not second.promoted and second.aliases == ("challenger",)
    assert "but not champion" in second.reason
    # the champion was scored on the same holdout: same rows and model, so exactly run 1's metrics
    assert second.champion_metrics == pytest.approx(first_run.metrics)
    client = mlflow_client(training_settings)
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == "1"
    assert client.get_run(second.run_id).data.metrics["champion_roc_auc"] == pytest.approx(
        first_run.metrics["roc_auc"]
    )


def test_scoring_writes_the_day_idempotently(training_settings, churn_history, first_run):
    as_of = churn_history.as_of
    day_end = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)
    written = score_churn(training_settings, as_of)
    again = score_churn(training_settings, as_of)
    with connect(training_settings) as conn:
        count, low, high, deciles, versions, customers = conn.execute(
            "select count(*), min(churn_probability), max(churn_probability), count(distinct risk_decile), "
            "array_agg(distinct model_version), "
            # customers with a purchase through as_of that was not known to be cancelled by then
            "(select count(distinct customer_key) from dwd.order_item where purchased_at < %s "
            "   and (order_status <> 'cancelled' or updated_at >= %s)) "
            "from ads.churn_scores where score_date = %s",
            (day_end, day_end, as_of),
        ).fetchone()
        top_low, next_high = conn.execute(
            "select min(churn_probability) filter (where risk_decile = 10), "
            "max(churn_probability) filter (where risk_decile = 9) "
            "from ads.churn_scores where score_date = %s",
            (as_of,),
        ).fetchone()
        analyst_can_read = conn.execute(
            "select has_table_privilege('analyst', 'ads.churn_scores', 'select')"
        ).fetchone()[0]
    assert written == again == count == customers
    assert 0.9 * churn_history.customers < count < churn_history.customers  # some only ever cancelled
    assert 0.0 <= low < high <= 1.0
    assert deciles == 10 and versions == ["1"]
    assert top_low >= next_high  # decile 10 holds the highest churn probabilities
    assert analyst_can_read


def test_monitor_shows_psi_and_the_realised_auc_of_earlier_scores(
    training_settings, churn_history, first_run
):
    horizon = training_settings.churn_horizon_days
    issued = churn_history.as_of - timedelta(days=horizon)
    score_churn(training_settings, issued)
    score_churn(training_settings, churn_history.as_of)
    early, row = (monitor_churn(training_settings, day) for day in (issued, churn_history.as_of))
    assert early["realised_value"] is None and early["realised_score_date"] is None  # nothing issued yet
    assert row["realised_metric"] == "roc_auc" and row["realised_score_date"] == issued
    assert 0.7 < row["realised_value"] <= 1.0 and row["realised_rows"] > 1000
    assert 0.0 <= row["score_psi"] < 0.5 and row["model_version"] == first_run.version


def test_scoring_without_champion_is_a_clear_error(training_settings, churn_history, first_run):
    client = mlflow_client(training_settings)
    client.delete_registered_model_alias(MODEL_NAME, "champion")
    try:
        with pytest.raises(NoChampionError, match="has no 'champion' alias"):
            score_churn(training_settings, churn_history.as_of)
    finally:
        client.set_registered_model_alias(MODEL_NAME, "champion", first_run.version)
