"""The exposure log: who saw which variant of which experiment, when, and why.

Analysis counts a unit from its *first* exposure, so the log keeps the first record per
(experiment, unit) and only counts repeats. Non-enrolled outcomes (holdout, outside the traffic
share, another experiment of the layer) are logged too, with variant None and their reason, so the
holdout can later be compared with everyone else. :func:`abtest.mart.write_exposures` lands the log in
the warehouse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from abtest.splitter import Assignment

log = logging.getLogger(__name__)

EXPOSURE_COLUMNS = (
    "experiment",
    "unit_id",
    "variant",
    "bucket",
    "reason",
    "stratum",
    "channel",
    "exposed_at",
    "repeat_exposures",
)


@dataclass(frozen=True)
class Exposure:
    """One unit's first exposure to an experiment (``exposed_at`` is timezone-aware UTC)."""

    experiment: str
    unit_id: str
    variant: str | None
    bucket: int
    reason: str
    stratum: str | None
    channel: str | None
    exposed_at: datetime


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"exposure time {at.isoformat()} has no timezone; pass an aware UTC datetime")
    return at.astimezone(UTC)


class ExposureLog:
    """In-memory, first-exposure-wins log; ``clock`` is injectable so tests control time."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._clock = clock
        self._first: dict[tuple[str, str], Exposure] = {}
        self._repeats: dict[tuple[str, str], int] = {}

    def record(
        self, assignment: Assignment, *, at: datetime | None = None, channel: str | None = None
    ) -> bool:
        """Log an exposure; returns True if it is the unit's first for this experiment."""
        when = _utc(at if at is not None else self._clock())
        key = (assignment.experiment, assignment.unit_id)
        first = self._first.get(key)
        if first is not None:
            if when < first.exposed_at:  # late-arriving earlier event: it becomes the first exposure
                self._first[key] = Exposure(
                    first.experiment, first.unit_id, first.variant, first.bucket, first.reason,
                    first.stratum, channel, when,
                )  # fmt: skip
            self._repeats[key] += 1
            return False
        self._first[key] = Exposure(
            assignment.experiment,
            assignment.unit_id,
            assignment.variant,
            assignment.bucket,
            str(assignment.reason),
            assignment.stratum,
            channel,
            when,
        )
        self._repeats[key] = 0
        return True

    def __len__(self) -> int:
        return len(self._first)

    def __iter__(self) -> Iterator[Exposure]:
        return iter(self._first.values())

    def counts(self, experiment: str) -> dict[str, int]:
        """Enrolled units per variant: the observed counts the sample-ratio check needs."""
        out: dict[str, int] = {}
        for exp in self._first.values():
            if exp.experiment == experiment and exp.variant is not None:
                out[exp.variant] = out.get(exp.variant, 0) + 1
        return out

    def to_dataframe(self) -> pd.DataFrame:
        """One row per (experiment, unit) with the columns of :data:`EXPOSURE_COLUMNS`."""
        rows = [
            (e.experiment, e.unit_id, e.variant, e.bucket, e.reason, e.stratum, e.channel, e.exposed_at,
             self._repeats[(e.experiment, e.unit_id)])
            for e in self._first.values()
        ]  # fmt: skip
        frame = pd.DataFrame(rows, columns=list(EXPOSURE_COLUMNS))
        frame["exposed_at"] = pd.to_datetime(frame["exposed_at"], utc=True)
        frame["bucket"] = frame["bucket"].astype("int64")
        frame["repeat_exposures"] = frame["repeat_exposures"].astype("int64")
        log.info("exposure log: %d units, %d repeat exposures", len(frame), sum(self._repeats.values()))
        return frame
