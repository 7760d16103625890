"""A/B testing for Mercator: stable traffic splitting and experiment analysis (see abtest/README.md).

Each submodule has one job: ``hashing`` (salted buckets), ``config`` (experiment objects),
``splitter`` (assignment), ``exposure`` (who saw what, when, why), ``stats`` (Welch, delta method),
``cuped``, ``srm``, ``corrections`` (Holm, BH), ``sequential`` (always-valid), ``analysis``,
``report`` and ``mart`` (warehouse writes). The names below are re-exported lazily, so importing the
splitter in a request path does not pay for scipy, pandas and psycopg.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AnalysisConfig": "abtest.analysis",
    "Metric": "abtest.analysis",
    "analyze": "abtest.analysis",
    "analyze_moments": "abtest.analysis",
    "binomial_moments": "abtest.analysis",
    "summarize": "abtest.analysis",
    "Experiment": "abtest.config",
    "Holdout": "abtest.config",
    "Layer": "abtest.config",
    "Variant": "abtest.config",
    "ExposureLog": "abtest.exposure",
    "write_experiment_results": "abtest.mart",
    "write_exposures": "abtest.mart",
    "ExperimentReport": "abtest.report",
    "MetricResult": "abtest.report",
    "SequentialConfig": "abtest.sequential",
    "Assignment": "abtest.splitter",
    "Reason": "abtest.splitter",
    "TrafficSplitter": "abtest.splitter",
    "SrmResult": "abtest.srm",
    "srm_check": "abtest.srm",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'abtest' has no attribute {name!r}")
