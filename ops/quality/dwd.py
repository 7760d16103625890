"""Great Expectations gate on DWD partitions (DESIGN.md §1: a failed checkpoint stops the partition).

One suite per call on the process's GX context; each partition is read with pyarrow, validated as a
pandas batch, rendered into the data docs, and every failure is reported by entity, partition and
expectation with an example value (redacted for checks that guard PII). A suite with table-wide columns
(SCD2 history rules) reads every partition of the entity once, computes them, then validates each
requested partition's share of the rows, so a rule spanning partitions fails like any other. GX is
imported inside the call: the import alone costs ~9 s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs

from ops.quality.docs import write_page
from ops.quality.engine import (
    DataQualityError,
    Failure,
    PartitionResult,
    Suite,
    SuiteRunner,
    ValidationSummary,
    failures,
)
from ops.quality.order_suites import ORDER_SUITES
from ops.settings import Settings
from storage.lake import Lake
from storage.loader import PARTITION_COLUMN, arrow_location, read_dwd_partition

log = logging.getLogger(__name__)

__all__ = ["DataQualityError", "ValidationSummary", "validate_dwd_partitions"]

PARTITION_PRESENT = "expect_partition_to_exist"


def _missing_partition(entity: str, day: date) -> Failure:
    return Failure(
        check=f"dwd/{entity}/ds={day.isoformat()} exists (freshness)",
        expectation=PARTITION_PRESENT,
        unexpected=None,
        examples=(),
        error="the run's partition is missing: the job published no rows for the day",
    )


Reader = Callable[[date], pd.DataFrame | None]


def _read_table(settings: Settings, entity: str) -> pd.DataFrame | None:
    """Every partition of an entity as one frame with its ``ds`` (None when the table does not exist)."""
    fs, path = arrow_location(Lake(settings.lake_uri).dwd_table(entity))
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return None
    partitioning = pads.partitioning(pa.schema([(PARTITION_COLUMN, pa.date32())]), flavor="hive")
    dataset = pads.dataset(path, filesystem=fs, format="parquet", partitioning=partitioning)
    return dataset.to_table().to_pandas()


def _read_partition(settings: Settings, entity: str, day: date) -> pd.DataFrame | None:
    table = read_dwd_partition(settings, entity, day)
    return None if table is None else table.to_pandas()


def _reader(settings: Settings, entity: str, suite: Suite) -> Reader:
    """How to get one partition's frame: read alone, or (table-wide columns) cut from the whole table.

    Table-wide columns are computed once on every partition, so a partition's rows are judged against
    versions it does not hold (the SCD2 successor in a later partition).
    """
    if not suite.table:
        return lambda day: _read_partition(settings, entity, day)
    whole = _read_table(settings, entity)
    parts: dict[date, pd.DataFrame] = {}
    if whole is not None and not whole.empty:
        for name, derive in suite.table.items():
            whole[name] = derive(whole)
        parts = {
            day: rows.reset_index(drop=True) for day, rows in whole.groupby(PARTITION_COLUMN, sort=False)
        }

    def read(day: date) -> pd.DataFrame | None:
        if day in parts:
            return parts[day].copy()
        frame = _read_partition(settings, entity, day)  # absent, or present without rows
        return None if frame is None else frame.assign(**{name: None for name in suite.table})

    return read


def suite_for(entity: str) -> Suite:
    """A DWD entity's suite: hand-written for the order entities, derived from the spec for the others."""
    if entity in ORDER_SUITES:
        return ORDER_SUITES[entity]
    from ops.quality.entity_suites import SOURCE_SUITES  # imports the Spark job specs

    if entity in SOURCE_SUITES:
        return SOURCE_SUITES[entity]
    raise KeyError(f"no DWD suite for entity {entity!r}; known: {sorted([*ORDER_SUITES, *SOURCE_SUITES])}")


def validate_dwd_partitions(
    settings: Settings, entity: str, days: Iterable[date], *, required: Iterable[date] = ()
) -> ValidationSummary:
    """Validate each existing DWD partition of ``days``; raise DataQualityError naming every failure.

    Days without a partition are skipped like the loader skips them (a lookback interval reaches back
    past the first landed day, and a day may have no orders); they are listed in ``summary.missing``.
    A day in ``required`` must exist (freshness: the run's own day of a daily feed), else it fails.
    An existing but empty partition fails "row count > 0".
    """
    started = time.monotonic()
    suite = suite_for(entity)
    runner = SuiteRunner(f"dwd_{entity}", suite)
    read = _reader(settings, entity, suite)
    must_exist = set(required)
    results: dict[date, PartitionResult] = {}
    missing: list[date] = []
    for day in sorted(set(days) | must_exist):
        frame = read(day)
        if frame is None:
            if day in must_exist:
                failure = _missing_partition(entity, day)
                results[day] = PartitionResult(day, 0, 1, (failure,))
                write_page(settings, "DWD", entity, day, 0, (), (failure,))
                continue
            log.warning("dwd.%s ds=%s: no partition in the lake, nothing to validate", entity, day)
            missing.append(day)
            continue
        rows = len(frame)
        outcomes = runner.run(frame)
        failed = failures(outcomes)
        results[day] = PartitionResult(day, rows, runner.size, failed)
        page = write_page(settings, "DWD", entity, day, rows, outcomes)
        log.info(
            "dwd.%s ds=%s: %d rows, %d/%d expectations passed (data docs: %s)",
            entity,
            day,
            rows,
            runner.size - len(failed),
            runner.size,
            page,
        )
    summary = ValidationSummary(entity, results, time.monotonic() - started, tuple(missing), layer="DWD")
    if not summary.success:
        log.error("%s", summary.describe())
        raise DataQualityError(summary)
    log.info("dwd.%s: %d partitions valid in %.1f s", entity, len(results), summary.seconds)
    return summary
