"""``import_export``: land a file export into the ODS lake, one partition per purchase day.

The same ``land_day`` as the API connectors does the writing, so an imported day gets the same atomic
partition, ``_manifest.json`` and quarantine, and a rerun replaces the day with identical bytes.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from connectors.importers.assemble import Rejected, assemble, in_range
from connectors.importers.mapping import ImportMapping, MappingError, load_mapping
from connectors.landing import Manifest, land_day
from connectors.orders import ORDER
from connectors.source import Page, Window
from ops.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
# The shared datasets sit next to the checkout; a ``datasets_dir`` setting would be the production knob.
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "datasets"


def validate_imported(record: dict) -> str | None:
    """Rejected inputs carry their own reason; everything else must be a valid SP-API order record."""
    if isinstance(record, Rejected):
        return record.reason
    return ORDER.schema.validate(record)


def resolve_mapping(value: str | Path) -> Path:
    """A mapping path, or the name of a shipped mapping (``olist``, ``uci_online_retail``)."""
    path = Path(value)
    return path if path.suffix == ".toml" else MAPPINGS_DIR / f"{value}.toml"


def import_export(
    settings: Settings,
    mapping_path: Path | str,
    start: date | None = None,
    end: date | None = None,
    *,
    data_dir: Path | None = None,
) -> list[Manifest]:
    """Land every purchase day in ``[start, end]`` (default: the days the export covers).

    Days in the range without orders get an empty partition with a manifest, so downstream jobs can
    tell "no orders that day" from "not imported yet".
    """
    mapping = load_mapping(mapping_path)
    directory = data_dir or DEFAULT_DATA_DIR
    started = time.perf_counter()
    assembled = assemble(mapping, directory, start, end)
    elapsed = time.perf_counter() - started
    log.info(
        "%s: read %d rows in %.1f s (%.0f rows/s), %d outside the range: %d orders with %d items, "
        "%d orders and %d rows rejected",
        mapping.source,
        assembled.rows_read,
        elapsed,
        assembled.rows_read / max(elapsed, 1e-9),
        assembled.rows_skipped,
        assembled.orders,
        assembled.items,
        assembled.orders_rejected,
        assembled.rows_rejected,
    )
    _refuse_all_rejected(mapping, assembled.days.values())
    days = in_range(assembled.days, start, end)
    manifests = [_land(settings, mapping, ds, assembled.days.get(ds, [])) for ds in days]
    landed = sum(m.records_landed for m in manifests)
    quarantined = sum(m.records_quarantined for m in manifests)
    log.info(
        "%s/%s: landed %d days %s..%s: %d records landed, %d quarantined, %.1f s in all",
        mapping.source,
        mapping.entity,
        len(days),
        days[0] if days else "-",
        days[-1] if days else "-",
        landed,
        quarantined,
        time.perf_counter() - started,
    )
    return manifests


class ExportRejectedError(MappingError):
    """Every row of the export was rejected: a mapping problem (e.g. a text column mapped to a number),
    not bad data. Nothing is published."""


def _refuse_all_rejected(mapping: ImportMapping, days: Iterable[list[dict]]) -> None:
    """Stop an import none of whose rows made an order, naming the first rejection's file, line and
    column and the most common reasons (without the file and line that make each one unique)."""
    records = [record for day in days for record in day]
    if not records or not all(isinstance(record, Rejected) for record in records):
        return
    causes = Counter(record.reason.split(": ", 1)[-1] for record in records)
    common = "; ".join(f"{cause!r} x{count}" for cause, count in causes.most_common(3))
    raise ExportRejectedError(
        f"{mapping.source}: all {len(records)} rows were rejected, so nothing was published; first: "
        f"{records[0].reason}. Most common: {common}. Does the mapping put a column in the wrong field "
        "(e.g. a text column in a numeric field)?"
    )


def _land(settings: Settings, mapping: ImportMapping, ds: date, records: list[dict]) -> Manifest:
    manifest = land_day(
        settings,
        mapping.source,
        mapping.entity,
        ds,
        [Page(number=1, records=records, requests=0)],
        # A day of rejected rows only carries no order key: the API's schema-drift check (a key field
        # missing from every record) does not apply, and each row goes to the quarantine with its reason.
        primary_key=ORDER.primary_key if any(not isinstance(r, Rejected) for r in records) else (),
        cursor_field=ORDER.cursor_field,
        schema_version=mapping.schema_version,
        validate=validate_imported,
        known_fields=ORDER.schema.known_fields | mapping.extra_field_names,
        window=Window.for_day(ds),
    )
    log.info(
        "%s/%s ds=%s: %d landed, %d quarantined",
        mapping.source,
        mapping.entity,
        ds,
        manifest.records_landed,
        manifest.records_quarantined,
    )
    return manifest
