"""Shared command line of the DWD jobs: one Spark application runs every requested day."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from pyspark.sql import SparkSession

from ops.settings import Settings


def add_days_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ds", type=date.fromisoformat, nargs="+", required=True, help="YYYY-MM-DD (one or more)"
    )


def run_days(app_name: str, days: Iterable[date], job: Callable[[SparkSession, Settings, date], Any]) -> int:
    """Run ``job`` for each day in one session (a session start costs 11-16 s, DESIGN.md §9)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from ops.settings import get_settings
    from spark_jobs.session import build_spark_session

    settings = get_settings()
    spark = build_spark_session(settings, app_name=app_name)
    try:
        for ds in sorted(days):
            job(spark, settings, ds)
    finally:
        spark.stop()
    return 0
