"""Time-based train / validation / test snapshot plans.

Snapshots are ``step_days`` apart and end at the latest S whose label window is fully observed by
``as_of``. The test snapshots are the latest, validation the ones before, training the earliest; each set's
last label window closes by the next set's first snapshot, so nothing a later set is judged on was learnt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


class InsufficientHistoryError(ValueError):
    """Raised when the warehouse does not cover the history a snapshot plan needs."""


@dataclass(frozen=True)
class SplitPlan:
    """Which snapshot dates a run trains, validates and tests on, and the data span it read."""

    train: tuple[date, ...]
    valid: tuple[date, ...]
    test: tuple[date, ...]
    data_first: date
    data_last: date

    @property
    def all(self) -> tuple[date, ...]:
        return self.train + self.valid + self.test

    def as_params(self) -> dict[str, str]:
        return {
            "train_snapshots": ",".join(map(str, self.train)),
            "valid_snapshots": ",".join(map(str, self.valid)),
            "test_snapshots": ",".join(map(str, self.test)),
            "data_first_date": str(self.data_first),
            "data_last_date": str(self.data_last),
        }


def plan_splits(
    *,
    as_of: date,
    data_first: date | None,
    data_last: date | None,
    horizon_days: int,
    lookback_days: int,
    step_days: int,
    n_train: int,
    n_valid: int,
    n_test: int,
    max_data_lag_days: int,
    what: str,
) -> SplitPlan:
    """The snapshot plan through ``as_of``, or a clear error naming what history is missing."""
    if data_first is None or data_last is None:
        raise InsufficientHistoryError(f"{what}: the source is empty")
    if (as_of - data_last).days > max_data_lag_days:
        raise InsufficientHistoryError(
            f"{what}: data ends at {data_last}, {(as_of - data_last).days} days before as_of {as_of} "
            "(label windows would look empty: is the load behind?)"
        )
    last = min(as_of, data_last) - timedelta(days=horizon_days)
    step = timedelta(days=step_days)
    test = tuple(last - k * step for k in reversed(range(n_test)))
    separation = timedelta(days=max(step_days, horizon_days))
    valid_last = test[0] - separation
    valid = tuple(valid_last - k * step for k in reversed(range(n_valid)))
    train_last = valid[0] - separation
    train = tuple(train_last - k * step for k in reversed(range(n_train)))
    earliest = data_first + timedelta(days=lookback_days - 1)
    if train[0] < earliest:
        need = (test[-1] - train[0]).days + lookback_days + horizon_days
        have = (min(as_of, data_last) - data_first).days + 1
        raise InsufficientHistoryError(
            f"not enough history for {what}: need {need} days, have {have} "
            f"(data from {data_first} through {data_last}, as_of {as_of})"
        )
    return SplitPlan(train=train, valid=valid, test=test, data_first=data_first, data_last=data_last)
