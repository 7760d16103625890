"""Traffic splitting: stability, weights, strata, ramps, holdout and layer exclusivity, salt independence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from abtest.config import Experiment, Holdout, Layer, Variant
from abtest.splitter import Assignment, Reason, TrafficSplitter

IDS = [f"cust-{i:06d}" for i in range(100_000)]
TOL = 0.005  # 0.5 percentage points


def exp(name="exp_a", salt="salt-a", weights=(1, 1), **kw) -> Experiment:
    names = ["control"] + [f"v{i}" for i in range(1, len(weights))]
    return Experiment(name, salt, tuple(Variant(n, w) for n, w in zip(names, weights, strict=True)), **kw)


def shares(series: pd.Series) -> dict:
    return series.value_counts(normalize=True).to_dict()


def test_same_unit_same_variant_across_instances_and_calls():
    first = TrafficSplitter(exp()).assign("cust-1")
    again = TrafficSplitter(exp()).assign("cust-1")
    assert first == again
    assert isinstance(first, Assignment)
    assert first.experiment == "exp_a" and first.unit_id == "cust-1" and first.reason == Reason.ASSIGNED
    assert first.variant in {"control", "v1"} and 0 <= first.bucket < 10_000
    frame = TrafficSplitter(exp()).assign_many(IDS[:3000])
    singles = [TrafficSplitter(exp()).assign(u) for u in IDS[:3000]]
    assert frame["variant"].tolist() == [a.variant for a in singles]
    assert frame["bucket"].tolist() == [a.bucket for a in singles]
    assert frame["reason"].tolist() == [str(a.reason) for a in singles]


@pytest.mark.parametrize("weights", [(1, 1), (5, 3, 2), (9, 1), (0.25, 0.25, 0.25, 0.25)])
def test_observed_shares_match_weights_within_half_a_point(weights):
    experiment = exp(weights=weights)
    observed = shares(TrafficSplitter(experiment).assign_many(IDS)["variant"])
    for name, share in experiment.shares.items():
        assert abs(observed[name] - share) < TOL, (name, observed[name], share)


def test_weight_change_is_visible_not_silent():
    # a 50/50 experiment and a 90/10 one put most units in the same variant only by construction
    even = TrafficSplitter(exp(weights=(1, 1))).assign_many(IDS[:20_000])["variant"]
    skew = TrafficSplitter(exp(weights=(9, 1))).assign_many(IDS[:20_000])["variant"]
    assert (skew == "v1").mean() < 0.11 < 0.49 < (even == "v1").mean()


def test_different_salts_give_independent_assignments():
    a = TrafficSplitter(exp(salt="salt-a")).assign_many(IDS)["variant"]
    b = TrafficSplitter(exp(name="exp_b", salt="salt-b")).assign_many(IDS)["variant"]
    table = pd.crosstab(a, b).to_numpy()
    assert stats.chi2_contingency(table).pvalue > 0.001
    assert abs((a == b).mean() - 0.5) < TOL


def test_per_stratum_traffic_shares():
    experiment = exp(traffic=0.3, stratum_traffic={"electronics": 0.1, "home": 0.8})
    splitter = TrafficSplitter(experiment)
    strata = ["electronics", "home", "toys"]
    frame = pd.concat([splitter.assign_many(IDS, [s] * len(IDS)) for s in strata])
    enrolled = frame.assign(on=frame["reason"] == "assigned").groupby("stratum")["on"].mean()
    assert abs(enrolled["electronics"] - 0.1) < TOL
    assert abs(enrolled["home"] - 0.8) < TOL
    assert abs(enrolled["toys"] - 0.3) < TOL  # no override: the default share
    assert set(frame.loc[frame["reason"] != "assigned", "reason"]) == {Reason.TRAFFIC.value}
    assert frame.loc[frame["reason"] != "assigned", "variant"].isna().all()
    # a unit's variant does not depend on its stratum
    both = (
        frame[frame["reason"] == "assigned"]
        .pivot(index="unit_id", columns="stratum", values="variant")
        .dropna()
    )
    assert len(both) > 5000 and (both["electronics"] == both["home"]).all()


def test_ramping_up_only_adds_units_and_keeps_their_variant():
    small = TrafficSplitter(exp(traffic=0.1)).assign_many(IDS)
    large = TrafficSplitter(exp(traffic=0.5)).assign_many(IDS)
    was_in = small["reason"] == "assigned"
    assert (large.loc[was_in, "reason"] == "assigned").all()
    assert (large.loc[was_in, "variant"] == small.loc[was_in, "variant"]).all()
    assert abs((large["reason"] == "assigned").mean() - 0.5) < TOL


def test_global_holdout_is_exclusive_across_experiments():
    holdout = Holdout(share=0.05)
    a = TrafficSplitter(exp(salt="salt-a"), holdout=holdout).assign_many(IDS)
    b = TrafficSplitter(exp(name="exp_b", salt="salt-b", weights=(1, 1, 1)), holdout=holdout).assign_many(IDS)
    held_a, held_b = a["reason"] == "global_holdout", b["reason"] == "global_holdout"
    assert (held_a == held_b).all()  # the same units are held out everywhere
    assert abs(held_a.mean() - 0.05) < TOL
    assert a.loc[held_a, "variant"].isna().all() and b.loc[held_b, "variant"].isna().all()
    assert a.loc[~held_a, "variant"].notna().all()
    # the holdout does not distort the split among the rest
    for name, share in exp().shares.items():
        assert abs(shares(a.loc[~held_a, "variant"])[name] - share) < TOL
    single = TrafficSplitter(exp(), holdout=holdout).assign(a.loc[held_a, "unit_id"].iloc[0])
    assert single.reason == Reason.HOLDOUT and single.variant is None and not single.in_experiment


def test_experiments_in_one_layer_are_mutually_exclusive_and_other_layers_overlap():
    layer = Layer.evenly("checkout", "layer-checkout", ["exp_a", "exp_b"])
    a = TrafficSplitter(exp("exp_a", "salt-a"), layer=layer).assign_many(IDS)
    b = TrafficSplitter(exp("exp_b", "salt-b"), layer=layer).assign_many(IDS)
    in_a, in_b = a["reason"] == "assigned", b["reason"] == "assigned"
    assert not (in_a & in_b).any()
    assert (in_a | in_b).all()
    assert abs(in_a.mean() - 0.5) < TOL
    assert set(a.loc[~in_a, "reason"]) == {Reason.LAYER.value}
    other = Layer("pricing", "layer-pricing", {"exp_c": (0, 10_000)})
    c = TrafficSplitter(exp("exp_c", "salt-c"), layer=other).assign_many(IDS)
    assert (c["reason"] == "assigned").all()
    assert abs((in_a & (c["variant"] == "v1")).mean() - 0.25) < TOL


def test_layer_with_unallocated_space():
    layer = Layer("search", "layer-search", {"exp_a": (0, 2000), "exp_b": (2000, 3000)})
    a = TrafficSplitter(exp("exp_a", "salt-a"), layer=layer).assign_many(IDS)
    assert abs((a["reason"] == "assigned").mean() - 0.2) < TOL
    assert layer.experiment_for_bucket(2500) == "exp_b" and layer.experiment_for_bucket(9000) is None


def test_holdout_layer_and_traffic_combine():
    layer = Layer.evenly("l1", "layer-1", ["exp_a", "exp_b"])
    frame = TrafficSplitter(exp(traffic=0.5), holdout=Holdout(0.1), layer=layer).assign_many(IDS)
    got = frame["reason"].value_counts(normalize=True)
    assert abs(got["global_holdout"] - 0.1) < TOL
    assert abs(got["other_experiment_in_layer"] - 0.9 * 0.5) < TOL
    assert abs(got["assigned"] - 0.9 * 0.5 * 0.5) < TOL


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variants": (Variant("a"),)}, "at least two variants"),
        ({"variants": (Variant("a"), Variant("a"))}, "duplicate variant"),
        ({"traffic": 1.5}, "traffic must be between 0 and 1"),
        ({"stratum_traffic": {"toys": -0.1}}, "stratum 'toys'"),
        ({"control": "nope"}, "control 'nope'"),
        ({"variants": (Variant("a", 1), Variant("b", 1e-6))}, "below one bucket"),
        ({"salt": "a:b"}, "must not contain ':'"),
    ],
)
def test_invalid_experiment_config_is_rejected(kwargs, message):
    base = {"name": "exp_x", "salt": "s", "variants": (Variant("a"), Variant("b"))}
    with pytest.raises(ValueError, match=message):
        Experiment(**{**base, **kwargs})


def test_invalid_variant_layer_and_holdout_are_rejected():
    with pytest.raises(ValueError, match="weight must be > 0"):
        Variant("a", 0)
    with pytest.raises(ValueError, match="overlap"):
        Layer("l", "s", {"a": (0, 6000), "b": (5000, 10_000)})
    with pytest.raises(ValueError, match="must lie in"):
        Layer("l", "s", {"a": (0, 20_000)})
    with pytest.raises(ValueError, match="holdout"):
        Holdout(share=1.2)
    with pytest.raises(ValueError, match="no range in layer"):
        TrafficSplitter(exp("exp_z"), layer=Layer.evenly("l", "s", ["exp_a"]))
    with pytest.raises(ValueError, match="3 unit ids but 2 strata"):
        TrafficSplitter(exp()).assign_many(["a", "b", "c"], ["x", "y"])


def test_bucket_field_is_the_variant_bucket():
    experiment = exp(weights=(3, 7))
    frame = TrafficSplitter(experiment).assign_many(IDS[:5000])
    edge = experiment.variant_edges[1]
    assert edge == 3000
    assert (frame.loc[frame["bucket"] < edge, "variant"] == "control").all()
    assert (frame.loc[frame["bucket"] >= edge, "variant"] == "v1").all()
    assert np.array_equal(frame["bucket"].to_numpy() >= 0, np.ones(5000, dtype=bool))
