"""The breakout ranker end to end on the sandbox `small` profile: real Postgres, dbt, LightGBM, MLflow.

Done means (issue 15): test NDCG@10 at least 10% above the robust z-score baseline and at least 80% of
the oracle's; a better model becomes champion, a worse one stays challenger and scoring keeps using the
champion; a signature mismatch refuses to score; the monitor shows PSI and the realised NDCG@10.
"""

from __future__ import annotations

from datetime import date, timedelta

import mlflow
import pandas as pd
import pytest

from ops.settings import Settings
from storage.warehouse import connect
from tests.conftest import OwnWarehouse
from tests.dbt.test_operator_marts import fetch
from tests.training.sandbox_world import sandbox_asin_warehouse
from training.factory.champion import SignatureMismatchError, load_champion
from training.factory.leak import LeakError
from training.factory.training import TrainOutcome
from training.mlflow_setup import mlflow_client
from training.monitor import monitor_ranker
from training.ranker import MODEL_NAME
from training.ranker.data import load_history
from training.ranker.dataset import ranking_set
from training.ranker.features import KEY, asin_features
from training.ranker.score import SCORES_TABLE, features_for_day, score_ranker
from training.ranker.train import DEFAULT_LGB_PARAMS, RankerConfig, train_ranker

FIRST, LAST = date(2025, 4, 1), date(2025, 7, 31)


@pytest.fixture(scope="module")
def world(training_settings: Settings, own_warehouse: OwnWarehouse) -> Settings:
    """Sandbox ASIN history in its own warehouse database; MLflow in the training suite's database."""
    mlflow = training_settings.mlflow_tracking_uri_override
    return sandbox_asin_warehouse(
        own_warehouse("mercator_training_ranker", mlflow_tracking_uri_override=mlflow), FIRST, LAST
    )


@pytest.fixture(scope="module")
def first_run(world: Settings) -> TrainOutcome:
    return train_ranker(world, LAST, RankerConfig(oracle=True))


def test_ranker_beats_the_baseline_and_nears_the_oracle(world: Settings, first_run: TrainOutcome) -> None:
    m = first_run.metrics
    print(
        f"\nranker test NDCG@10 {m['ndcg_at_10']:.4f}, baseline {m['baseline_ndcg_at_10']:.4f}, "
        f"oracle {m['oracle_ndcg_at_10']:.4f}; against the truth's grades: "
        f"ranker {m['truth_ndcg_at_10']:.4f}, baseline {m['baseline_truth_ndcg_at_10']:.4f}"
    )
    assert m["ndcg_at_10"] >= 1.10 * m["baseline_ndcg_at_10"]
    assert m["ndcg_at_10"] >= 0.80 * m["oracle_ndcg_at_10"]
    assert first_run.promoted and first_run.aliases == ("champion",)
    client = mlflow_client(world)
    run = client.get_run(first_run.run_id)
    for key in ("ndcg_at_10", "baseline_ndcg_at_10", "oracle_ndcg_at_10"):
        assert run.data.metrics[key] == pytest.approx(m[key])
    info = mlflow.models.get_model_info(f"models:/{MODEL_NAME}@champion")
    assert info.signature is not None and "rank_trend_7d" in info.signature.inputs.input_names()


@pytest.fixture(scope="module")
def weaker_run(world: Settings, first_run: TrainOutcome) -> TrainOutcome:
    """Stumps for 3 rounds: a clearly worse ranker on the same data."""
    params = {**DEFAULT_LGB_PARAMS, "num_leaves": 2}
    return train_ranker(world, LAST, RankerConfig(oracle=True, lgb_params=params, num_boost_round=3))


def test_promotion_works_both_ways(
    world: Settings, first_run: TrainOutcome, weaker_run: TrainOutcome
) -> None:
    assert weaker_run.version == "2" and weaker_run.aliases == ("challenger",) and not weaker_run.promoted
    assert weaker_run.metrics["ndcg_at_10"] < first_run.metrics["ndcg_at_10"]
    # the champion was scored again on the same test rows: exactly the first run's metric
    assert weaker_run.metrics["champion_ndcg_at_10"] == pytest.approx(first_run.metrics["ndcg_at_10"])
    client = mlflow_client(world)
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == "1"
    tags = client.get_run(weaker_run.run_id).data.tags
    assert tags["promotion"] == "challenger" and tags["promotion_reason"] == weaker_run.reason
    assert "does not beat baseline" in weaker_run.reason

    # an operator hands the champion alias to the weak version; a model better by the margin takes it back
    client.set_registered_model_alias(MODEL_NAME, "champion", "2")
    better = train_ranker(world, LAST, RankerConfig(oracle=True, promotion_margin=0.01))
    assert better.version == "3" and better.promoted and better.aliases == ("champion",)
    assert "margin 0.0100" in better.reason
    card = client.get_model_version(MODEL_NAME, "3").description
    assert "v2:" in card and "baseline" in card and "oracle" in card  # change history, metrics vs both


def test_scoring_uses_the_champion_and_refuses_a_signature_mismatch(
    world: Settings, first_run: TrainOutcome, weaker_run: TrainOutcome
) -> None:
    day = LAST - timedelta(days=14)
    assert score_ranker(world, day) > 3000
    champion = str(mlflow_client(world).get_model_version_by_alias(MODEL_NAME, "champion").version)
    rows = fetch(world, f"select * from {SCORES_TABLE} where score_date = '{day}'")
    assert {r["model_version"] for r in rows} == {champion}
    top = [r for r in rows if r["rank_in_group"] == 1]
    assert len(top) == len({(r["marketplace_id"], r["category"]) for r in rows})
    assert all(r["baseline_rank"] is not None for r in rows)

    features, _ = features_for_day(world, day)
    model = load_champion(mlflow_client(world), MODEL_NAME)
    with pytest.raises(
        SignatureMismatchError, match=r"missing \['rank_trend_7d'\].*unexpected \['surprise'\]"
    ):
        model.predict(features.drop(columns=["snapshot_date", "rank_trend_7d"]).assign(surprise=1.0))


def test_a_planted_leak_fails_the_training_set_build(world: Settings) -> None:
    snapshot = LAST - timedelta(days=20)
    with connect(world) as conn:
        history = load_history(conn, snapshot - timedelta(days=27), snapshot + timedelta(days=14))

    def leaky(frame: pd.DataFrame, day: date) -> pd.DataFrame:
        out = asin_features(frame, day)
        later = frame[frame["ds"] == pd.Timestamp(day + timedelta(days=3))].set_index(list(KEY))
        out["units_7d"] = later["units"].reindex(out.index).fillna(0.0)  # "recent" units peek 3 days ahead
        return out

    assert len(ranking_set(history, [snapshot], 14, (0.85, 0.95, 0.99))) > 3000  # the real features pass
    with pytest.raises(LeakError, match=r"units_7d .*observed after the snapshot|observed after.*units_7d"):
        ranking_set(history, [snapshot], 14, (0.85, 0.95, 0.99), build=leaky)


def test_monitor_shows_psi_and_the_realised_ndcg_of_earlier_scores(
    world: Settings, first_run: TrainOutcome
) -> None:
    days = [LAST - timedelta(days=k) for k in (21, 14, 7, 0)]
    for day in days:
        score_ranker(world, day)
    rows = [monitor_ranker(world, day) for day in days]
    table = fetch(world, "select * from ads.ads_model_monitor order by monitor_date")
    assert [r["monitor_date"] for r in table] == days
    assert all(0 <= r["score_psi"] < 0.5 for r in table)
    assert table[0]["realised_value"] is None  # its scores' labels matured before anything was scored
    for row in table[2:]:
        assert row["realised_score_date"] == row["monitor_date"] - timedelta(days=14)
        assert 0.1 < row["realised_value"] <= 1 and row["realised_rows"] > 3000
    assert rows[-1]["realised_metric"] == "ndcg_at_10"


def test_source_filter_reads_only_the_given_marketplaces(world: Settings) -> None:
    us = "ATVPDKIKX0DER"
    with connect(world) as conn:
        both = load_history(conn, LAST - timedelta(days=2), LAST)
        only_us = load_history(conn, LAST - timedelta(days=2), LAST, (us,))
    assert set(both["marketplace_id"]) == {us, "A1F83G8C2ARO7P"}
    assert set(only_us["marketplace_id"]) == {us} and len(only_us) == (both["marketplace_id"] == us).sum()


def test_cli_lists_champion_challenger_and_compares_runs(
    world: Settings, first_run: TrainOutcome, weaker_run: TrainOutcome, capsys: pytest.CaptureFixture[str]
) -> None:
    from ops.cli import build_parser

    train = build_parser().parse_args(["train", "ranker", "--as-of", str(LAST), "--source", "A,B"])
    assert (train.model, train.as_of, train.source) == ("ranker", LAST, "A,B")
    board = build_parser().parse_args(["models"])
    board.func(world, board)
    out = capsys.readouterr().out
    assert "champion" in out and "challenger" in out and "ndcg_at_10" in out
    compare = build_parser().parse_args(["models", "compare", "ranker", "--last", "2"])
    compare.func(world, compare)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert "ndcg_at_10" in lines[0] and len(lines) == 3  # header + the two latest runs
    run = mlflow_client(world).get_run(first_run.run_id)
    assert run.data.params["source"] == "all marketplaces" and run.data.params["as_of"] == str(LAST)
