"""Rules a job spec cannot state, as small data: each becomes GX checks plus the columns they read.

A spec says keys, required fields, enums and which column is ``ds``; an entity's ``RULES`` line in
:mod:`ops.quality.entity_suites` adds what only a reviewer knows: a metric's plausible range, a
derived code's vocabulary, an ordering between timestamps, a value that must agree with the columns it
was computed from, or an SCD2 history. Every rule is a GX expectation; rules GX's pandas engine cannot
state directly run on a column computed first (``derived``: from the partition's own rows; ``table``:
from every partition of the entity, see :class:`ops.quality.engine.Suite`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import pandas as pd

from ops.quality import scd2
from ops.quality.engine import Check

Derive = Callable[[pd.DataFrame], pd.Series]


class Rule(ABC):
    """Base of every rule: the checks it adds, and the columns those checks need computed first."""

    @abstractmethod
    def checks(self) -> tuple[Check, ...]:
        """The GX checks this rule adds to its entity's suite."""

    def derived(self) -> Mapping[str, Derive]:
        return {}

    def table(self) -> Mapping[str, Derive]:
        return {}


@dataclass(frozen=True)
class Range(Rule):
    """``column`` must lie in [low, high] (either bound may be open); nulls are allowed (GX skips them)."""

    column: str
    low: float | None = None
    high: float | None = None

    @property
    def label(self) -> str:
        if self.high is None:
            return f"{self.column} >= {self.low:g}"
        if self.low is None:
            return f"{self.column} <= {self.high:g}"
        return f"{self.column} between {self.low:g} and {self.high:g}"

    def check(self) -> Check:
        bounds = {k: v for k, v in (("min_value", self.low), ("max_value", self.high)) if v is not None}
        return Check("ExpectColumnValuesToBeBetween", {"column": self.column, **bounds}, self.label)

    def checks(self) -> tuple[Check, ...]:
        return (self.check(),)


@dataclass(frozen=True)
class InSet(Rule):
    """A code the job derives (so the spec has no enum for it) must be one of its vocabulary."""

    column: str
    values: Collection[str]
    vocabulary: str  # how people call the set, e.g. "the unified carrier event codes"

    def checks(self) -> tuple[Check, ...]:
        return (
            Check(
                "ExpectColumnValuesToBeInSet",
                {"column": self.column, "value_set": sorted(self.values)},
                f"{self.column} in {self.vocabulary}",
            ),
        )


@dataclass(frozen=True)
class Matches(Rule):
    """An identifier the spec types as plain text (e.g. an ASIN) must have its shape; nulls are allowed."""

    column: str
    regex: str
    shape: str  # how people call the shape, e.g. "a 10-character ASIN"

    def checks(self) -> tuple[Check, ...]:
        return (
            Check(
                "ExpectColumnValuesToMatchRegex",
                {"column": self.column, "regex": self.regex},
                f"{self.column} is {self.shape}",
            ),
        )


@dataclass(frozen=True)
class Ordered(Rule):
    """``later`` is not before ``earlier`` (strictly after if ``strict``); rows missing either are skipped."""

    later: str
    earlier: str
    strict: bool = False

    def checks(self) -> tuple[Check, ...]:
        kwargs = {
            "column_A": self.later,
            "column_B": self.earlier,
            "or_equal": not self.strict,
            "ignore_row_if": "either_value_is_missing",
        }
        sign = ">" if self.strict else ">="
        return (
            Check("ExpectColumnPairValuesAToBeGreaterThanB", kwargs, f"{self.later} {sign} {self.earlier}"),
        )


@dataclass(frozen=True)
class Agrees(Rule):
    """``column`` equals the value recomputed from the columns it was derived from (null with null)."""

    column: str
    recompute: Derive
    label: str

    @property
    def expected(self) -> str:
        return f"_expected_{self.column}"

    def checks(self) -> tuple[Check, ...]:
        kwargs = {
            "column_A": self.column,
            "column_B": self.expected,
            "ignore_row_if": "both_values_are_missing",
        }
        return (Check("ExpectColumnPairValuesToBeEqual", kwargs, self.label),)

    def derived(self) -> Mapping[str, Derive]:
        return {self.expected: self.recompute}


@dataclass(frozen=True)
class History(Rule):
    """SCD2 over every partition: per ``key``, validity contiguous and non-overlapping, one current version.

    A version's successor may sit in any later partition, so the verdicts are computed on the whole table
    (:mod:`ops.quality.scd2`) and each partition's batch expects its rows' verdicts to be null;
    the examples name the listing and the versions involved.
    """

    key: tuple[str, ...]
    valid_from: str = "valid_from"
    valid_to: str = "valid_to"
    is_current: str = "is_current"

    @property
    def columns(self) -> scd2.Columns:
        return scd2.Columns(self.key, self.valid_from, self.valid_to, self.is_current)

    def checks(self) -> tuple[Check, ...]:
        key = ", ".join(self.key)
        return (
            Check(
                "ExpectColumnValuesToBeNull",
                {"column": scd2.CHAIN_PROBLEM},
                f"per ({key}) validity intervals contiguous and non-overlapping",
            ),
            Check(
                "ExpectColumnValuesToBeNull",
                {"column": scd2.CURRENT_PROBLEM},
                f"exactly one current version per ({key})",
            ),
        )

    def table(self) -> Mapping[str, Derive]:
        columns = self.columns
        return {
            scd2.CHAIN_PROBLEM: lambda frame: scd2.chain_problems(frame, columns),
            scd2.CURRENT_PROBLEM: lambda frame: scd2.current_problems(frame, columns),
        }
