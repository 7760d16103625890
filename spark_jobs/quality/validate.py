"""Great Expectations gate on DWD partitions (DESIGN.md §1: a failed checkpoint stops the partition).

One ephemeral context and one suite per call; each partition is read with pyarrow, validated as a
pandas batch, and every failure is reported by entity, partition and expectation with an example value
(redacted for checks that guard PII). GX is imported inside the call: the import alone costs ~9 s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from ops.settings import Settings
from spark_jobs.quality.suites import SUITES, Check, Suite
from storage.loader import read_dwd_partition

log = logging.getLogger(__name__)

MAX_EXAMPLES = 3


@dataclass(frozen=True)
class Failure:
    check: str  # the human label, e.g. "unit_price >= 0"
    expectation: str  # the GX expectation type, e.g. expect_column_values_to_be_between
    unexpected: int | None
    examples: tuple[str, ...]
    error: str | None = None

    def describe(self) -> str:
        text = f"{self.expectation} [{self.check}]"
        if self.error:
            return f"{text}: {self.error}"
        if self.unexpected is not None:
            text += f": {self.unexpected} unexpected"
        if self.examples:
            text += f", e.g. {', '.join(self.examples)}"
        return text


@dataclass(frozen=True)
class PartitionResult:
    ds: date
    rows: int
    evaluated: int
    failures: tuple[Failure, ...]

    @property
    def success(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class ValidationSummary:
    entity: str
    partitions: dict[date, PartitionResult]
    seconds: float
    missing: tuple[date, ...] = ()  # requested days with no partition in the lake (nothing to check)

    @property
    def success(self) -> bool:
        return all(result.success for result in self.partitions.values())

    @property
    def failed(self) -> list[PartitionResult]:
        return [result for _, result in sorted(self.partitions.items()) if not result.success]

    @property
    def expectations_evaluated(self) -> int:
        return sum(result.evaluated for result in self.partitions.values())

    def describe(self) -> str:
        lines = [
            f"DWD {self.entity}: {len(self.failed)} of {len(self.partitions)} partitions failed validation"
        ]
        for result in self.failed:
            lines.append(f"  {self.entity} ds={result.ds.isoformat()} ({result.rows} rows):")
            lines.extend(f"    - {failure.describe()}" for failure in result.failures)
        return "\n".join(lines)


class DataQualityError(RuntimeError):
    """A DWD partition broke its suite; downstream of that partition must not run."""

    def __init__(self, summary: ValidationSummary) -> None:
        super().__init__(summary.describe())
        self.summary = summary


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return repr(value)


def _example(value: Any, check: Check) -> str:
    if check.sensitive:
        return f"<redacted {len(str(value))}-char value>"
    return _show(value)


def _key(expectation_type: str, kwargs: Mapping[str, Any]) -> tuple[str, Any, Any, Any]:
    """What identifies a check within a suite (GX leaves ids unset on suites outside a store)."""
    return (expectation_type, kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"))


def _exception_message(exception_info: Any) -> str | None:
    """GX reports errors either flat or keyed by metric; the first message, if anything raised."""
    infos = [exception_info] if isinstance(exception_info, dict) else []
    if infos and "raised_exception" not in infos[0]:
        infos = [info for info in infos[0].values() if isinstance(info, dict)]
    for info in infos:
        if info.get("raised_exception"):
            return str(info.get("exception_message"))[:300]
    return None


def _failure(check: Check, result: Any) -> Failure:
    """A GX ExpectationValidationResult → a Failure (values redacted where the check guards PII)."""
    message = _exception_message(result.exception_info)
    if message is not None:
        return Failure(
            check.label, result.expectation_config.type, None, (), f"could not be evaluated: {message}"
        )
    details = result.result or {}
    examples = details.get("partial_unexpected_list") or []
    if "observed_value" in details and not examples:
        examples = [details["observed_value"]]
    return Failure(
        check=check.label,
        expectation=result.expectation_config.type,
        unexpected=details.get("unexpected_count"),
        examples=tuple(_example(value, check) for value in examples[:MAX_EXAMPLES]),
    )


class _Validator:
    """One GX ephemeral context, batch definition and suite, reused for every partition of a call."""

    def __init__(self, entity: str, suite: Suite) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.suite_spec = suite
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = self.context.data_sources.add_pandas(f"dwd_{entity}").add_dataframe_asset(entity)
        self.batch_definition = asset.add_batch_definition_whole_dataframe("partition")
        self.suite = gx.ExpectationSuite(name=f"dwd_{entity}")
        self.checks: dict[tuple[str, Any, Any, Any], Check] = {}
        for check in suite.checks:
            expectation = self.suite.add_expectation(
                getattr(gx.expectations, check.expectation)(**check.kwargs)
            )
            key = _key(expectation.expectation_type, check.kwargs)
            if key in self.checks:
                raise ValueError(f"suite dwd_{entity} has two {key} checks; results could not be told apart")
            self.checks[key] = check

    def validate(self, frame: pd.DataFrame) -> list[Failure]:
        for name, derive in self.suite_spec.derived.items():
            frame[name] = derive(frame)
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            self.suite,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES},
        )
        return [
            _failure(self.checks[_key(r.expectation_config.type, r.expectation_config.kwargs)], r)
            for r in result.results
            if not r.success
        ]


def validate_dwd_partitions(settings: Settings, entity: str, days: Iterable[date]) -> ValidationSummary:
    """Validate each existing DWD partition of ``days``; raise DataQualityError naming every failure.

    Days without a partition are skipped like the loader skips them (a lookback interval reaches back
    past the first landed day, and a day may have no orders); they are listed in ``summary.missing``.
    An existing but empty partition fails "row count > 0".
    """
    started = time.monotonic()
    if entity not in SUITES:
        raise KeyError(f"no DWD suite for entity {entity!r}; known: {sorted(SUITES)}")
    validator = _Validator(entity, SUITES[entity])
    results: dict[date, PartitionResult] = {}
    missing: list[date] = []
    for day in sorted(set(days)):
        table = read_dwd_partition(settings, entity, day)
        if table is None:
            log.warning("dwd.%s ds=%s: no partition in the lake, nothing to validate", entity, day)
            missing.append(day)
            continue
        failures = validator.validate(table.to_pandas())
        results[day] = PartitionResult(day, table.num_rows, len(validator.checks), tuple(failures))
        log.info(
            "dwd.%s ds=%s: %d rows, %d/%d expectations passed",
            entity,
            day,
            table.num_rows,
            len(validator.checks) - len(failures),
            len(validator.checks),
        )
    summary = ValidationSummary(entity, results, time.monotonic() - started, tuple(missing))
    if not summary.success:
        log.error("%s", summary.describe())
        raise DataQualityError(summary)
    log.info("dwd.%s: %d partitions valid in %.1f s", entity, len(results), summary.seconds)
    return summary
