"""One business day through the daily DAG's orders chain, as plain calls (what each task calls, in order).

The chaos suite runs days in-process on the shared Spark session, and as a child process it can kill
(``python -m tests.chaos.day --ds 2025-11-07``: settings from the environment, like an Airflow task).
The orders chain is ingest → ODS gate → Spark DWD (order items, then order headers) → DWD gate → the two
loads → dbt (DWS, then ADS) → ADS gate on the marts the orders feed. The other sources' tasks are left out
to keep the suite inside the CI budget (their Spark jobs cost more than the whole orders chain), and so
are training and scoring, which write MLflow, not the dwd/dws/ads tables compared here.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date

from ops import pipeline
from ops.quality import gates
from ops.quality.ads import MartCheck, configured_marts, validate_ads
from ops.settings import Settings, get_settings

ORDERS = "orders"
# Built from the other sources only (shop health, hourly ads): empty without them, so not gated here.
SOURCE_ONLY_MARTS = frozenset({"ads.ads_shop_sps_risk", "ads.ads_ad_circuit_breaker"})


def order_marts(settings: Settings) -> tuple[MartCheck, ...]:
    return tuple(check for check in configured_marts(settings) if check.mart not in SOURCE_ONLY_MARTS)


def run_day(settings: Settings, ds: date) -> None:
    """The orders chain of ``mercator_daily`` for ``ds``; a failed gate raises DataQualityError."""
    pipeline.refuse_future_days(settings, ds)
    pipeline.ingest_source(settings, ORDERS, ds)
    gates.validate_ods_sources(settings, ds, [ORDERS])
    built = pipeline.build_dwd(settings, ds, ds, [ORDERS])
    gates.validate_dwd(settings, ds, ds, built)
    pipeline.load_dwd(settings, built)
    pipeline.transform(settings, ds, ds, "dws")
    pipeline.transform(settings, ds, ds, "ads")
    validate_ads(settings, ds, order_marts(settings))


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import build_spark_session

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ds", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s: %(message)s")
    settings = get_settings()
    spark = build_spark_session(settings, app_name=f"chaos-day-{args.ds}")  # one application, like a run
    try:
        run_day(settings, args.ds)
    finally:
        spark.stop()
    print(f"day {args.ds} done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
