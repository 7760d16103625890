"""What an entity module declares: the field kinds, :class:`Field`, :class:`Check`, :class:`Derived` and
:class:`EntitySpec`, plus :class:`EntityCounts`, what one run of a spec reports.

The steps that run a spec are in :mod:`spark_jobs.entity_job`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from ops.settings import Settings
from spark_jobs.schemas import CORRUPT_RECORD
from storage.lake import Lake
from storage.run_log import record_run
from storage.warehouse import connect

ELEMENT, ELEMENT_INDEX = "_element", "_element_index"  # exploded entities: an element's JSON text, position

# Kinds a field can be typed to; decimals are written "decimal(p,s)".
STRING, DOUBLE, INTEGER, BIGINT, BOOLEAN, DATE, TIMESTAMP, CURRENCY = (
    "string",
    "double",
    "int",
    "bigint",
    "boolean",
    "date",
    "timestamp",
    "currency",
)


class OdsPartitionMissingError(FileNotFoundError):
    """The run's ODS day has not landed: publishing now would publish nothing as if it were the truth."""


@dataclass(frozen=True)
class Field:
    """One ODS field and the DWD column it becomes.

    ``kind`` is one of the kinds above or ``decimal(p,s)``. ``pii=True`` replaces the value by its keyed
    hash (a 64-hex string) before anything else happens; ``enum`` lists the values a string may take.
    ``path`` reads a value nested in an ODS object (``"price.amount"``: the ``amount`` of the record's
    ``price`` object) or, for an exploded list, in its element (``"items[].sku"``); ``name`` then only
    names the raw value (quarantine column, reject reasons). ``keep=False``: typed (for derived columns
    and checks, as ``_t_<column>``) but not a DWD column.
    """

    name: str
    kind: str = STRING
    required: bool = True
    column: str | None = None  # DWD column name; defaults to ``name``
    enum: tuple[str, ...] | None = None
    pii: bool = False
    path: str | None = None  # dotted path of a nested ODS value; defaults to the top-level ``name``
    keep: bool = True  # False: an input of derived columns and checks only, not written to DWD

    @property
    def out(self) -> str:
        return self.column or self.name

    @property
    def ods_field(self) -> str:
        """The top-level ODS field the value is read from (for an element field: the exploded list)."""
        return (self.path or self.name).split(".")[0].removesuffix("[]")

    @property
    def in_element(self) -> bool:
        """Read from each element of the exploded list (``path`` ``"<list>[].<name>"``)."""
        return self.path is not None and "[]." in self.path

    def raw(self) -> Column:
        """The value's JSON text, from the top-level ODS field (an object is read as its JSON text)."""
        if self.in_element:
            inner = (self.path or "").split("[].", 1)[1]
            return F.get_json_object(F.col(ELEMENT), f"$.{inner}").alias(self.name)
        if self.path is None or "." not in self.path:
            return F.col(self.ods_field).alias(self.name)
        inner = self.path.split(".", 1)[1]
        return F.get_json_object(F.col(self.ods_field), f"$.{inner}").alias(self.name)


@dataclass(frozen=True)
class Check:
    """A rule on the typed row; rows where ``predicate`` is false are rejected with ``reason``."""

    reason: str
    predicate: Callable[[], Column]


@dataclass(frozen=True)
class Derived:
    """A DWD column computed from the typed fields (``F.col("_t_<column>")``), e.g. a unified code.

    When ``required`` and the value is null the record is rejected with ``reason`` (a text column, so it
    can name the unmapped value); a derived value is never silently null.
    """

    column: str
    expr: Callable[[], Column]
    reason: Callable[[], Column]
    required: bool = True


Publisher = Callable[[SparkSession, Lake, "EntitySpec", DataFrame, date], dict[date, int]]


@dataclass(frozen=True)
class EntitySpec:
    """Everything entity-specific about a flat ODS → DWD job."""

    entity: str  # DWD entity: dwd/<entity>/ds=…, storage/sql/dwd_<entity>.sql
    source: str  # ODS source: ods/<source>/<ods_entity>/ds=…
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # DWD columns identifying one row
    partition_by: str  # DWD date or timestamp column whose UTC date is ds
    checks: tuple[Check, ...] = ()
    ods_entity: str | None = None  # defaults to ``entity``
    derived: tuple[Derived, ...] = ()
    lookback: bool = False  # read ODS [ds - lookback days, ds], rebuild that window
    min_lookback_days: int = 0  # lookback days = max(settings.dwd_lookback_days, this)
    version_by: str | None = None  # DWD column ordering versions of one key (latest wins) before ODS day
    publish: Publisher | None = None  # entity-specific writer; default: replace the partitions produced
    explode: str | None = None  # top-level ODS list field: one row per element ("<list>[].x" field paths)

    @property
    def ods_name(self) -> str:
        return self.ods_entity or self.entity

    @property
    def columns(self) -> tuple[str, ...]:
        """The DWD columns, in order: the kept fields, then the derived columns."""
        return tuple(f.out for f in self.fields if f.keep) + tuple(d.column for d in self.derived)

    def ods_schema(self) -> StructType:
        """Every field as its JSON text (numbers and booleans too): typing is the job's, not the reader's."""
        top = dict.fromkeys([f.ods_field for f in self.fields] + ([self.explode] if self.explode else []))
        return StructType(
            [StructField(name, StringType()) for name in top] + [StructField(CORRUPT_RECORD, StringType())]
        )

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.entity}: field names {names} are not unique")
        versioned = (self.version_by,) if self.version_by else ()
        missing = [c for c in (*self.key, self.partition_by, *versioned) if c not in self.columns]
        if missing:
            raise ValueError(f"{self.entity}: key/partition columns {missing} are not fields")
        stray = [f.name for f in self.fields if f.in_element and f.ods_field != self.explode]
        if stray:
            raise ValueError(f"{self.entity}: fields {stray} read list elements but explode={self.explode!r}")


@dataclass(frozen=True)
class EntityCounts:
    """What one run read, dropped and wrote; ``rows_in = rows_out + duplicates_dropped + rows_rejected``."""

    entity: str
    ds: date
    rows_in: int
    rows_out: int
    duplicates_dropped: int
    rows_rejected: int
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    outside_window: int = 0  # lookback entities: latest versions of records older than the window
    ods_partitions: tuple[date, ...] = ()
    partitions: dict[date, int] = field(default_factory=dict)  # DWD partitions written → rows
    source: str = ""
    ods_entity: str = ""
    ods_records: int = 0  # ODS records read: rows_in counts list elements for exploded entities
    emptied: tuple[date, ...] = ()  # window days that had rows and now have none (removed)
    extra: dict[str, Any] = field(default_factory=dict)  # entity-specific run-log details

    @property
    def window_start(self) -> date:
        """The first DWD day the run rebuilt (lookback entities: the oldest ODS day it read)."""
        return self.ods_partitions[0] if self.ods_partitions else self.ds

    @property
    def reconciles(self) -> bool:
        return self.rows_in == (
            self.rows_out + self.duplicates_dropped + self.rows_rejected + self.outside_window
        )

    def details(self) -> dict[str, Any]:
        """The run-log details ``ads_reconciliation`` checks: which ODS days and records the run read
        and which DWD partitions it wrote (a window day missing from ``partitions`` was left empty)."""
        return {
            "source": self.source,
            "ods_entity": self.ods_entity,
            "ods_records": self.ods_records,
            "ods_partitions": [d.isoformat() for d in self.ods_partitions],
            "window_start": self.window_start.isoformat(),
            "partitions": {d.isoformat(): n for d, n in sorted(self.partitions.items())},
            "duplicates_dropped": self.duplicates_dropped,
            "outside_window": self.outside_window,
            "rejected_reasons": self.rejected_reasons,
            "emptied": [d.isoformat() for d in self.emptied],
            "reconciles": self.reconciles,
            "seconds": round(self.seconds, 3),
            **self.extra,
        }


class RunCounts(Protocol):
    """What every DWD job reports (:class:`EntityCounts`, the order headers' counts)."""

    entity: str
    ds: date
    rows_in: int

    @property
    def rows_out(self) -> int: ...

    @property
    def rows_rejected(self) -> int: ...

    def details(self) -> dict[str, Any]: ...


def log_counts(settings: Settings, step: str, counts: RunCounts) -> None:
    """The run's row in ``ops.run_log``, in its own transaction (the lake write before it is durable)."""
    with connect(settings, autocommit=True) as conn, conn.transaction():
        record_run(
            conn,
            step=step,
            entity=counts.entity,
            ds=counts.ds,
            rows_in=counts.rows_in,
            rows_out=counts.rows_out,
            rows_rejected=counts.rows_rejected,
            details=counts.details(),
        )
