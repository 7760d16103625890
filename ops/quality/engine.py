"""The Great Expectations plumbing every layer's gate shares: a suite as data in, outcomes out.

A gate (ODS manifest, DWD partition, ADS mart) states its checks as :class:`Check` data, runs them here on
a pandas frame and gets one :class:`Outcome` per check back, in the order it gave them. Results are told
apart by the check's index, kept in each expectation's ``meta``, so two checks of one type on one column
cannot be confused. GX is imported inside :class:`SuiteRunner` (the import alone costs ~9 s).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

MAX_EXAMPLES = 3


@dataclass(frozen=True)
class Check:
    """One expectation: the GX class name, its arguments, and a label people recognise in an alert.

    ``sensitive`` checks guard PII handling; if they fail, the offending value may be clear-text PII,
    so error messages show its length only.
    """

    expectation: str
    kwargs: Mapping[str, Any]
    label: str
    sensitive: bool = False


@dataclass(frozen=True)
class Suite:
    checks: tuple[Check, ...]
    # Columns computed before validation, for rules GX's pandas engine cannot state directly.
    derived: Mapping[str, Callable[[pd.DataFrame], pd.Series]] = field(default_factory=dict)
    # Columns computed on every partition of the entity at once, before any partition is validated: for
    # rules that span partitions (an SCD2 version is closed by one in a later partition). Each partition's
    # batch carries its own rows' values.
    table: Mapping[str, Callable[[pd.DataFrame], pd.Series]] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    check: str  # the human label, e.g. "unit_price >= 0"
    expectation: str  # the GX expectation type, e.g. expect_column_values_to_be_between
    unexpected: int | None
    examples: tuple[str, ...]
    error: str | None = None
    observed: str | None = None  # an aggregate's observed value (row count, mean, …)
    expected: str | None = None  # the bounds it had to meet, when the check has bounds

    def describe(self) -> str:
        text = f"{self.expectation} [{self.check}]"
        if self.error:
            return f"{text}: {self.error}"
        if self.observed is not None:
            text += f": observed {self.observed}"
            return text + (f" (expected {self.expected})" if self.expected else "")
        if self.unexpected is not None:
            text += f": {self.unexpected} unexpected"
        if self.examples:
            text += f", e.g. {', '.join(self.examples)}"
        return text


@dataclass(frozen=True)
class Outcome:
    """One check's result on one batch: what the data docs show, pass or fail."""

    check: Check
    expectation: str
    success: bool
    failure: Failure | None = None
    observed: str | None = None  # what GX measured, passed or not (a count, a mean, unexpected rows)


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
    entity: str  # an entity, a source/entity pair or a mart: what the alert names
    partitions: dict[date, PartitionResult]
    seconds: float
    missing: tuple[date, ...] = ()  # requested days with no partition in the lake (nothing to check)
    layer: str = "DWD"

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
            f"{self.layer} {self.entity}: {len(self.failed)} of {len(self.partitions)} "
            "partitions failed validation"
        ]
        for result in self.failed:
            lines.append(f"  {self.entity} ds={result.ds.isoformat()} ({result.rows} rows):")
            lines.extend(f"    - {failure.describe()}" for failure in result.failures)
        return "\n".join(lines)


class DataQualityError(RuntimeError):
    """A partition or mart broke its suite; downstream of it must not run.

    One error may carry several summaries (a gate over many entities reports them all at once);
    ``summary`` is the first, for callers that check one entity.
    """

    def __init__(self, *summaries: ValidationSummary) -> None:
        if not summaries:
            raise ValueError("DataQualityError needs at least one failed summary")
        super().__init__("\n".join(summary.describe() for summary in summaries))
        self.summaries = summaries
        self.summary = summaries[0]


def raise_if_failed(summaries: Sequence[ValidationSummary]) -> None:
    """One error naming every failed summary, so an alert lists all broken entities, not the first."""
    failed = [summary for summary in summaries if not summary.success]
    if failed:
        raise DataQualityError(*failed)


def show(value: Any) -> str:
    """A short, stable text for a value in an alert (dates ISO, decimals exact, floats to 6 digits)."""
    if isinstance(value, np.generic):  # pandas hands numpy scalars; show them as the Python value
        value = value.item()
    if isinstance(value, tuple | list):
        return "(" + ", ".join(show(v) for v in value) + ")"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _example(value: Any, check: Check) -> str:
    if check.sensitive:
        return f"<redacted {len(str(value))}-char value>"
    return show(value)


def _bounds(kwargs: Mapping[str, Any]) -> str | None:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is None and high is None:
        return None
    if high is None:
        return f">= {show(low)}"
    if low is None:
        return f"<= {show(high)}"
    return f"between {show(low)} and {show(high)}"


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
    expectation = result.expectation_config.type
    message = _exception_message(result.exception_info)
    if message is not None:
        return Failure(check.label, expectation, None, (), f"could not be evaluated: {message}")
    details = result.result or {}
    examples = details.get("partial_unexpected_list") or []
    if "observed_value" in details and not examples and "unexpected_count" not in details:
        observed = details["observed_value"]
        return Failure(
            check.label,
            expectation,
            None,
            (),
            observed=_example(observed, check),
            expected=_bounds(check.kwargs),
        )
    return Failure(
        check=check.label,
        expectation=expectation,
        unexpected=details.get("unexpected_count"),
        examples=tuple(_example(value, check) for value in examples[:MAX_EXAMPLES]),
    )


@cache
def _context() -> Any:
    """One ephemeral GX context per process: creating one per suite would cost more than validating."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _observed(check: Check, details: Mapping[str, Any] | None) -> str | None:
    details = details or {}
    if "observed_value" in details:
        return _example(details["observed_value"], check)
    if "unexpected_count" in details:
        return f"{details['unexpected_count']} unexpected of {details.get('element_count')}"
    return None


class SuiteRunner:
    """One GX batch definition and suite, reused for every batch of a call."""

    def __init__(self, name: str, suite: Suite) -> None:
        import great_expectations as gx

        self.name = name
        self.spec = suite
        self.context = _context()
        source = f"{name}_{uuid.uuid4().hex[:8]}"  # suites differ per call (ADS bounds move daily)
        asset = self.context.data_sources.add_pandas(source).add_dataframe_asset(name)
        self.batch_definition = asset.add_batch_definition_whole_dataframe("batch")
        self.suite = gx.ExpectationSuite(name=name)
        for index, check in enumerate(suite.checks):
            expectation_class = getattr(gx.expectations, check.expectation)
            self.suite.add_expectation(
                expectation_class(**check.kwargs, meta={"check": index}, description=check.label)
            )

    @property
    def size(self) -> int:
        return len(self.spec.checks)

    def run(self, frame: pd.DataFrame) -> list[Outcome]:
        """Every check's outcome on ``frame`` (derived columns are added to it first), in suite order."""
        for name, derive in self.spec.derived.items():
            frame[name] = derive(frame)
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            self.suite,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES},
        )
        outcomes: dict[int, Outcome] = {}
        for r in result.results:
            index = int(r.expectation_config.meta["check"])
            check = self.spec.checks[index]
            failure = None if r.success else _failure(check, r)
            outcomes[index] = Outcome(
                check, r.expectation_config.type, bool(r.success), failure, _observed(check, r.result)
            )
        return [outcomes[index] for index in sorted(outcomes)]


def failures(outcomes: Sequence[Outcome]) -> tuple[Failure, ...]:
    return tuple(o.failure for o in outcomes if o.failure is not None)
