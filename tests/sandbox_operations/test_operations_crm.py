"""CRM exposures: stable, balanced randomisation and a treatment effect an A/B analysis recovers."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from abtest.splitter import TrafficSplitter
from abtest.srm import srm_check
from abtest.stats import welch_test
from connectors.sandbox import crm
from connectors.sandbox.truth_operations import crm_truth

SEED = 42
EXPERIMENT = "crm_winback_2025_06"


def test_assignment_is_the_splitters_and_stable() -> None:
    truth = crm_truth(SEED, EXPERIMENT)
    exp = crm.experiment_named(EXPERIMENT).definition(SEED)
    splitter = TrafficSplitter(exp)
    sample = truth.units.sample(200, random_state=0)
    for row in sample.itertuples():
        assert splitter.assign(row.customer_id).variant == row.variant
    served = crm.exposures(SEED, datetime(2025, 6, 5, tzinfo=UTC), datetime(2025, 6, 8, tzinfo=UTC))
    by_customer = {r["customer_id"]: r["variant"] for r in served}
    assert by_customer == dict(zip(truth.units["customer_id"], truth.units["variant"], strict=True))
    # Only treated units are sent and cost money; the export carries no features or outcomes.
    assert all(r["is_sent"] == (r["variant"] == crm.TREATMENT) for r in served)
    assert all((r["touch_cost"] > 0) == r["is_sent"] for r in served)
    assert not {"cate_repurchase", "repurchased_14d", "purchase_rate"} & set(served[0])
    # A different seed re-salts the experiment, so the split changes.
    other = crm_truth(SEED + 1, EXPERIMENT).units.set_index("customer_id")["variant"]
    common = truth.units.set_index("customer_id")["variant"].align(other, join="inner")
    assert (common[0] != common[1]).mean() > 0.3


@pytest.mark.parametrize("experiment", ["crm_winback_2025_06", "crm_winback_2026_02"])
def test_split_is_balanced_and_difference_in_means_recovers_the_true_effect(experiment: str) -> None:
    truth = crm_truth(SEED, experiment)
    units = truth.units
    counts = units["variant"].value_counts().to_dict()
    srm = srm_check(counts, {crm.CONTROL: 0.5, crm.TREATMENT: 0.5}, experiment=experiment)
    assert not srm.flagged and srm.p_value > 0.001
    t, c = units[units["variant"] == crm.TREATMENT], units[units["variant"] == crm.CONTROL]
    for outcome, ate in (("repurchased_14d", truth.ate_repurchase), ("gmv_14d", truth.ate_gmv)):
        test = welch_test(
            t[outcome].mean(), t[outcome].var(), len(t), c[outcome].mean(), c[outcome].var(), len(c)
        )
        assert test.ci_low <= ate <= test.ci_high, (outcome, ate, test)
    # The effect is real (the interval excludes zero), not a null that any interval would contain.
    assert truth.ate_repurchase > 0.01 and truth.ate_gmv > 0.3


def test_effect_is_heterogeneous_and_the_oracle_ranks_realised_uplift() -> None:
    """Top-CATE customers gain clearly more than bottom-CATE ones in realised treated-vs-control outcomes."""
    units = crm_truth(SEED).units
    assert units["cate_repurchase"].std() > 0.5 * units["cate_repurchase"].mean()
    assert (units["cate_repurchase"] < 0).any()  # coupon fatigue among the most frequent buyers
    top = units[units["cate_repurchase"] >= units["cate_repurchase"].quantile(0.8)]
    bottom = units[units["cate_repurchase"] <= units["cate_repurchase"].quantile(0.2)]

    def realised_uplift(group) -> float:
        treated = group["variant"] == crm.TREATMENT
        return group.loc[treated, "repurchased_14d"].mean() - group.loc[~treated, "repurchased_14d"].mean()

    assert realised_uplift(top) > realised_uplift(bottom) + 0.03
    # Potential outcomes are consistent with the recorded CATE (shared uniforms, no extra noise).
    gap = (units["p_repurchase_treated"] - units["p_repurchase_control"]) - units["cate_repurchase"]
    assert np.allclose(gap, 0.0)
    assert (units["repurchase_treated"] >= units["repurchase_control"]).sum() > 0.98 * len(units)
