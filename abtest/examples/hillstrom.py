"""Worked example on real data: the Hillstrom e-mail experiment (MineThatData, 2008).

64,000 customers were randomised in equal thirds to a men's e-mail, a women's e-mail or no e-mail;
outcomes are the two weeks after: ``visit``, ``conversion`` and ``spend``. ``history`` (dollars spent
in the year before) is a pre-period covariate for CUPED.

Run: ``uv run --frozen python -m abtest.examples.hillstrom [--csv PATH]``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from abtest.analysis import AnalysisConfig, Metric, analyze
from abtest.report import ExperimentReport

DEFAULT_CSV = (
    Path(__file__).resolve().parents[3] / "shared" / "datasets" / "hillstrom_email" / "hillstrom.csv"
)
SEGMENTS = {"No E-Mail": "no_email", "Mens E-Mail": "mens_email", "Womens E-Mail": "womens_email"}
EXPERIMENT = "hillstrom_email"

METRICS = (
    Metric.mean("visit"),
    Metric.mean("conversion"),
    Metric.mean("spend_per_customer", "spend"),
)


def load_hillstrom(path: Path = DEFAULT_CSV) -> pd.DataFrame:
    """The CSV with ``variant`` (no_email / mens_email / womens_email) added from ``segment``."""
    frame = pd.read_csv(path)
    unknown = sorted(set(frame["segment"]) - set(SEGMENTS))
    if unknown:
        raise ValueError(f"{path}: unexpected segment values {unknown}")
    frame["variant"] = frame["segment"].map(SEGMENTS)
    return frame


def config(**overrides: object) -> AnalysisConfig:
    """Equal thirds as designed; no e-mail is the control."""
    return AnalysisConfig(
        EXPERIMENT, "no_email", {"no_email": 1, "mens_email": 1, "womens_email": 1}, **overrides
    )


def hillstrom_report(frame: pd.DataFrame, analysed_at: datetime | None = None) -> ExperimentReport:
    """Visit, conversion and spend per customer of each e-mail arm vs no e-mail (Holm across all six)."""
    return analyze(frame, METRICS, config(), analysed_at=analysed_at)


def cuped_report(frame: pd.DataFrame, analysed_at: datetime | None = None) -> ExperimentReport:
    """Visit with last year's spend (``history``) as CUPED covariate."""
    return analyze(frame, (Metric.mean("visit", covariate="history"),), config(), analysed_at=analysed_at)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="path to hillstrom.csv")
    args = parser.parse_args(argv)
    frame = load_hillstrom(args.csv)
    now = datetime.now(UTC)
    print(hillstrom_report(frame, now).to_markdown())
    print(cuped_report(frame, now).to_markdown())


if __name__ == "__main__":
    main()
