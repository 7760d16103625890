"""dlt-style declarations: a source declares resources; a resource is a lazy generator of pages.

Declaring does no I/O: requests start only when a resource's ``pages()`` is iterated, so a source can
be built, inspected and handed to the landing step (or a test) freely.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval [start, end) of the cursor field."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"empty window [{self.start}, {self.end})")

    @classmethod
    def for_day(cls, ds: date) -> Window:
        start = datetime.combine(ds, time(0), tzinfo=UTC)
        return cls(start, start + timedelta(days=1))

    def __str__(self) -> str:
        return f"[{iso_z(self.start)}, {iso_z(self.end)})"

    def looking_back(self, hours: float) -> Window:
        """The window started ``hours`` earlier, so records the API published late are asked for again."""
        if hours < 0:
            raise ValueError(f"look-back must not be negative, got {hours} h")
        return Window(self.start - timedelta(hours=hours), self.end)

    def slices(self, max_hours: float) -> tuple[Window, ...]:
        """Consecutive windows of at most ``max_hours`` covering this one exactly (no gap, no overlap)."""
        if max_hours <= 0:
            raise ValueError(f"slice length must be positive, got {max_hours} h")
        step = timedelta(hours=max_hours)
        bounds = [self.start]
        while bounds[-1] + step < self.end:
            bounds.append(bounds[-1] + step)
        bounds.append(self.end)
        return tuple(Window(a, b) for a, b in pairwise(bounds))


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Page:
    """Records exactly as received in one response, and how many HTTP requests it took."""

    number: int
    records: list[dict]
    requests: int = 1


Validator = Callable[[dict], str | None]


@dataclass(frozen=True)
class Resource:
    """One entity of a source: its identity, incremental cursor, validation and page generator."""

    name: str
    primary_key: tuple[str, ...]
    cursor_field: str
    schema_version: int
    pages: Callable[[], Iterator[Page]]
    validate: Validator
    known_fields: frozenset[str]
    write_disposition: str = "replace-day"  # a day's landing replaces that day's partition whole


@dataclass(frozen=True)
class Source:
    """A named group of resources sharing a client and an interval."""

    name: str
    resources: tuple[Resource, ...]

    def resource(self, name: str) -> Resource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(f"source {self.name!r} has no resource {name!r}")
