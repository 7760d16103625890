"""Experiments analysed from the warehouse: CRM exposures joined to the orders that followed them.

A unit is a customer's first exposure in an experiment. Its outcomes are what it bought in the
``outcome_days`` after that exposure (repurchase, GMV); its pre-period spend and orders over
``pre_days`` before the exposure are the CUPED covariates. An experiment is analysed only once the
outcome window of its last exposure has closed, so a report never mixes finished and running units.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd
import psycopg

from abtest.analysis import AnalysisConfig, Metric, analyze
from abtest.mart import write_experiment_results
from abtest.report import ExperimentReport

log = logging.getLogger(__name__)

METRICS = (
    Metric.mean("repurchase_rate", "repurchased", covariate="pre_orders"),
    Metric.mean("gmv_per_customer", "gmv", covariate="pre_gmv"),
)

UNITS_SQL = """
with firsts as (
    select distinct on (experiment, customer_key)
        experiment, customer_key, variant, sent_at
    from dwd.campaign_exposure
    where experiment = %(experiment)s
    order by experiment, customer_key, sent_at, exposure_key
)
select
    f.variant,
    coalesce(bool_or(o.purchased_at > f.sent_at), false)::int as repurchased,
    coalesce(sum(o.item_amount) filter (where o.purchased_at > f.sent_at), 0)::float8 as gmv,
    count(distinct o.order_id) filter (where o.purchased_at <= f.sent_at)::float8 as pre_orders,
    coalesce(sum(o.item_amount) filter (where o.purchased_at <= f.sent_at), 0)::float8 as pre_gmv
from firsts f
left join dwd.order_item o
    on o.customer_key = f.customer_key
    and o.order_status <> 'cancelled'
    and o.purchased_at > f.sent_at - make_interval(days => %(pre_days)s)
    and o.purchased_at <= f.sent_at + make_interval(days => %(outcome_days)s)
group by f.customer_key, f.variant
"""


@dataclass(frozen=True)
class CampaignAnalysisConfig:
    """Outcome and pre-period windows, the control arm's name and the designed traffic shares."""

    outcome_days: int = 14
    pre_days: int = 90
    control: str = "control"
    # Designed shares per experiment; experiments not listed are assumed to split evenly across the
    # variants they exposed (the sample-ratio check then tests exactly that design).
    expected_shares: Mapping[str, Mapping[str, float]] | None = None


def finished_experiments(conn: psycopg.Connection, as_of: date, outcome_days: int) -> list[str]:
    """Experiments whose last exposure's outcome window closed by the end of ``as_of``."""
    if conn.execute("select to_regclass('dwd.campaign_exposure')").fetchone()[0] is None:
        return []
    rows = conn.execute(
        "select experiment from dwd.campaign_exposure group by experiment"
        " having max(sent_at) + make_interval(days => %s) < (%s::date + 1)::timestamptz order by experiment",
        (outcome_days, as_of),
    ).fetchall()
    return [row[0] for row in rows]


def experiment_units(
    conn: psycopg.Connection, experiment: str, config: CampaignAnalysisConfig
) -> pd.DataFrame:
    cursor = conn.execute(
        UNITS_SQL,
        {"experiment": experiment, "outcome_days": config.outcome_days, "pre_days": config.pre_days},
    )
    return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


def analyze_experiment(
    conn: psycopg.Connection, experiment: str, config: CampaignAnalysisConfig
) -> ExperimentReport:
    units = experiment_units(conn, experiment, config)
    if units.empty:
        raise ValueError(f"experiment {experiment!r} has no exposures in dwd.campaign_exposure")
    variants = sorted(units["variant"].unique())
    designed = (config.expected_shares or {}).get(experiment)
    shares = dict(designed) if designed else {variant: 1.0 / len(variants) for variant in variants}
    analysis = AnalysisConfig(experiment=experiment, control=config.control, expected_shares=shares)
    return analyze(units, METRICS, analysis)


def analyze_finished_campaigns(
    conn: psycopg.Connection, as_of: date, config: CampaignAnalysisConfig | None = None
) -> list[ExperimentReport]:
    """Analyse every finished experiment and replace its rows in ``ads.ads_experiment_results``."""
    config = config or CampaignAnalysisConfig()
    reports = []
    for experiment in finished_experiments(conn, as_of, config.outcome_days):
        report = analyze_experiment(conn, experiment, config)
        write_experiment_results(report, conn)
        log.info("experiment %s analysed as of %s: %s", experiment, as_of, report.verdict)
        reports.append(report)
    return reports
