"""dlt-style declarations: a source declares resources; a resource is a lazy generator of pages.

Declaring does no I/O: requests start only when a resource's ``pages()`` is iterated, so a source can
be built, inspected and handed to the landing step (or a test) freely.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


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
