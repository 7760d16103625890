"""Landing raw records in the ODS lake: exactly as received, whole days, counts that reconcile.

A day is written to hidden staging directories next to its partitions, checked (received = landed +
quarantined, line count of the written file, checksum) and only then swapped in by rename, replacing a
previous landing of that day whole. The partition's ``_manifest.json`` travels inside the renamed
directory, so a visible partition always has its manifest and is never partial. Readers (Spark, DuckDB)
skip the ``.``-prefixed staging names.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import orjson

from connectors.record_schema import field_paths, parse_timestamp
from connectors.source import Page, Resource, Validator, Window, iso_z
from ops.settings import Settings
from storage.lake import Lake, local_path

log = logging.getLogger(__name__)

DATA_FILE = "part-00000.jsonl.gz"
QUARANTINE_FILE = "part-00000.jsonl.gz"
MANIFEST_FILE = "_manifest.json"
GZIP_LEVEL = 6


class LandingError(RuntimeError):
    """A day could not be landed consistently; nothing was published."""


class SchemaDriftError(LandingError):
    """The API stopped sending a primary-key field: every record would be quarantined, so stop instead."""


@dataclass(frozen=True)
class Manifest:
    """What one landing of one (source, entity, day) contains and how it was obtained."""

    source: str
    entity: str
    ds: str
    schema_version: int
    window_start: str | None
    window_end: str | None
    requests: int
    pages: int
    records_received: int
    records_landed: int
    records_quarantined: int
    duplicates: int
    quarantine_reasons: dict[str, int]
    data_file: str
    checksum_sha256: str
    bytes: int
    cursor_field: str
    cursor_max_seen: str | None
    cursor_before: dict[str, str | None]
    cursor_after: dict[str, str | None]
    started_at: str
    finished_at: str
    fields_seen: tuple[str, ...]
    drift: tuple[str, ...]

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2)

    @classmethod
    def read(cls, partition: Path) -> Manifest:
        data = orjson.loads((partition / MANIFEST_FILE).read_bytes())
        data["fields_seen"] = tuple(data["fields_seen"])
        data["drift"] = tuple(data["drift"])
        return cls(**data)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _LocalStaging:
    """A hidden sibling directory that becomes ``final`` by rename (the local-filesystem writer)."""

    def __init__(self, final: Path) -> None:
        self.final = final
        final.parent.mkdir(parents=True, exist_ok=True)
        olds = sorted(final.parent.glob(f".old-{final.name}-*"), key=lambda p: p.stat().st_mtime)
        if olds and not final.exists():  # a crash between the two renames of publish(): restore
            os.rename(olds.pop(), final)
        for stale in [*olds, *final.parent.glob(f".tmp-{final.name}-*")]:  # left by a crashed run
            shutil.rmtree(stale, ignore_errors=True)
        self.dir = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:12]}"
        self.dir.mkdir()

    def publish(self) -> None:
        """Replace ``final`` whole; the only moment without it is between two renames on one filesystem."""
        _fsync_dir(self.dir)
        old = None
        if self.final.exists():
            old = self.final.parent / f".old-{self.final.name}-{uuid.uuid4().hex[:12]}"
            os.rename(self.final, old)
        os.rename(self.dir, self.final)
        _fsync_dir(self.final.parent)
        if old is not None:
            shutil.rmtree(old)

    def remove_final(self) -> None:
        """Publish "nothing": drop the staging dir and any earlier ``final``."""
        self.discard()
        if self.final.exists():
            shutil.rmtree(self.final)

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class _GzipLines:
    """Deterministic gzip JSON lines (no name, mtime 0), so identical records give identical bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raw = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._gz = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=GZIP_LEVEL)
        self.lines = 0

    def write(self, record: object) -> None:
        self._gz.write(orjson.dumps(record))
        self._gz.write(b"\n")
        self.lines += 1

    def close(self) -> None:
        if not self._gz.closed:
            self._gz.close()
        if not self._raw.closed:
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()


def _checksum_and_lines(path: Path) -> tuple[str, int, int]:
    """sha256 of the file as stored, its size, and the number of lines it decompresses to."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with gzip.open(path, "rb") as fh:
        lines = sum(1 for _ in fh)
    return digest, path.stat().st_size, lines


def _iso(moment: datetime | None) -> str | None:
    return iso_z(moment) if moment is not None else None


class _DayTally:
    """Routes each record to the data or quarantine file and keeps the counts the manifest reports."""

    def __init__(
        self,
        source: str,
        entity: str,
        ds: date,
        data: _GzipLines,
        bad: _GzipLines,
        *,
        primary_key: tuple[str, ...],
        cursor_field: str,
        validate: Validator,
    ) -> None:
        self.source, self.entity, self.ds = source, entity, ds
        self.data, self.bad = data, bad
        self.primary_key = primary_key
        self.cursor_field = cursor_field
        self.validate = validate
        self.received = self.requests = self.pages = self.duplicates = 0
        self.reasons: Counter[str] = Counter()
        self.fields: set[str] = set()
        self.cursor_max: datetime | None = None
        self._keys: set[tuple] = set()

    def add_page(self, page: Page) -> None:
        self.pages += 1
        self.requests += page.requests
        self._check_key_fields(page)
        for record in page.records:
            self.received += 1
            reason = self.validate(record)
            if reason is None:
                self._land(record)
            else:
                self._quarantine(page.number, record, reason)

    def _check_key_fields(self, page: Page) -> None:
        """A key field absent from every record of a page is schema drift (removed or renamed), not a few
        bad records: landing the day would quarantine all of it, so the run stops naming the field."""
        records = [r for r in page.records if isinstance(r, dict)]
        for key in self.primary_key:
            if records and all(key not in record for record in records):
                fields = sorted(set().union(*(record.keys() for record in records)))
                raise SchemaDriftError(
                    f"{self.source}/{self.entity} ds={self.ds}: key field {key!r} is missing from every "
                    f"record of page {page.number} (removed or renamed by the API?); the page's fields: "
                    f"{fields}. Nothing was published; update the connector's schema."
                )

    def _land(self, record: dict) -> None:
        self.data.write(record)
        key = (*(record.get(k) for k in self.primary_key), record.get(self.cursor_field))
        if key in self._keys:
            self.duplicates += 1
        self._keys.add(key)
        self.fields.update(field_paths(record))
        moment = parse_timestamp(record.get(self.cursor_field))
        if moment is not None and (self.cursor_max is None or moment > self.cursor_max):
            self.cursor_max = moment

    def _quarantine(self, page: int, record: object, reason: str) -> None:
        self.reasons[reason] += 1
        line = {"source": self.source, "entity": self.entity, "ds": self.ds.isoformat(), "page": page}
        self.bad.write({**line, "reason": reason, "record": record})
        if self.reasons.total() <= 3:  # name the first few; the manifest counts them all by reason
            ident = {k: record.get(k) for k in self.primary_key} if isinstance(record, dict) else {}
            log.warning(
                "%s/%s ds=%s: quarantined a record on page %d %s: %s",
                self.source,
                self.entity,
                self.ds,
                page,
                ident,
                reason,
            )


def land_day(
    settings: Settings,
    source: str,
    entity: str,
    ds: date,
    pages: Iterable[Page],
    *,
    primary_key: tuple[str, ...],
    cursor_field: str,
    schema_version: int,
    validate: Validator,
    known_fields: frozenset[str] = frozenset(),
    cursor_before: Mapping[str, datetime | None] | None = None,
    cursor_after: Mapping[str, datetime | None] | None = None,
    window: Window | None = None,
) -> Manifest:
    """Land one day of raw records (pages are consumed lazily) and publish it atomically."""
    started = datetime.now(UTC)
    lake = Lake(settings.lake_uri)
    data_stage = _LocalStaging(local_path(lake.ods_partition(source, entity, ds)))
    q_stage = _LocalStaging(local_path(lake.ods_quarantine(source, entity, ds)))
    try:
        data = _GzipLines(data_stage.dir / DATA_FILE)
        bad = _GzipLines(q_stage.dir / QUARANTINE_FILE)
        tally = _DayTally(
            source,
            entity,
            ds,
            data,
            bad,
            primary_key=primary_key,
            cursor_field=cursor_field,
            validate=validate,
        )
        try:
            for page in pages:
                tally.add_page(page)
        finally:
            data.close()
            bad.close()

        checksum, size, lines = _checksum_and_lines(data.path)
        landed, quarantined = data.lines, bad.lines
        if tally.received != landed + quarantined or lines != landed:
            raise LandingError(
                f"{source}/{entity} ds={ds}: counts do not reconcile: received {tally.received}, "
                f"landed {landed} (file has {lines} lines), quarantined {quarantined}"
            )
        drift = tuple(sorted(tally.fields - known_fields)) if known_fields else ()
        if drift:
            log.warning(
                "%s/%s ds=%s: fields not in schema v%d: %s", source, entity, ds, schema_version, drift
            )
        manifest = Manifest(
            source=source,
            entity=entity,
            ds=ds.isoformat(),
            schema_version=schema_version,
            window_start=_iso(window.start) if window else None,
            window_end=_iso(window.end) if window else None,
            requests=tally.requests,
            pages=tally.pages,
            records_received=tally.received,
            records_landed=landed,
            records_quarantined=quarantined,
            duplicates=tally.duplicates,
            quarantine_reasons=dict(sorted(tally.reasons.items())),
            data_file=DATA_FILE,
            checksum_sha256=checksum,
            bytes=size,
            cursor_field=cursor_field,
            cursor_max_seen=_iso(tally.cursor_max),
            cursor_before={k: _iso(v) for k, v in sorted((cursor_before or {}).items())},
            cursor_after={k: _iso(v) for k, v in sorted((cursor_after or {}).items())},
            started_at=iso_z(started),
            finished_at=iso_z(datetime.now(UTC)),
            fields_seen=tuple(sorted(tally.fields)),
            drift=drift,
        )
        _write_manifest(data_stage.dir, manifest)
        # The quarantine goes first; the data partition (with its manifest) is the commit point.
        if quarantined:
            q_stage.publish()
        else:
            q_stage.remove_final()
        data_stage.publish()
    except BaseException:
        data_stage.discard()
        q_stage.discard()
        raise
    return manifest


def top_reasons(reasons: Mapping[str, int], limit: int = 3) -> str:
    """The most frequent quarantine reasons with their counts, for an alert (reasons never hold values)."""
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return "; ".join(f"{reason!r} x{count}" for reason, count in ranked) or "none recorded"


def quarantine_problem(
    received: int, landed: int, quarantined: int, *, max_share: float, min_received: int
) -> str | None:
    """Why a landed day must not pass as landed, or None: the API sent records and none landed, or
    more than ``max_share`` of them went to quarantine (judged from ``min_received`` records on)."""
    if received > 0 and landed == 0:
        return f"landed 0 of {received} records received ({quarantined} quarantined)"
    share = quarantined / received if received else 0.0
    if received >= min_received and share > max_share:
        return f"quarantined {quarantined} of {received} records ({share:.1%} > {max_share:.1%})"
    return None


def manifest_problem(manifest: Manifest, settings: Settings) -> str | None:
    """:func:`quarantine_problem` of a manifest under the settings' thresholds."""
    return quarantine_problem(
        manifest.records_received,
        manifest.records_landed,
        manifest.records_quarantined,
        max_share=settings.ods_max_quarantine_share,
        min_received=settings.ods_quarantine_min_received,
    )


def published_manifest(settings: Settings, source: str, entity: str, ds: date) -> Manifest | None:
    """The manifest of the day's published partition when its data file is intact, else None.

    A rerun uses it to leave an already-landed day alone: a missing, unreadable or older-format manifest,
    or a data file whose checksum differs from it, means the day must be landed again.
    """
    partition = local_path(Lake(settings.lake_uri).ods_partition(source, entity, ds))
    try:
        manifest = Manifest.read(partition)
        data = (partition / manifest.data_file).read_bytes()
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return manifest if hashlib.sha256(data).hexdigest() == manifest.checksum_sha256 else None


def land_resource(
    settings: Settings, source: str, resource: Resource, ds: date, **kwargs: object
) -> Manifest:
    """``land_day`` for a declared resource: its pages, key, cursor, schema and validation."""
    return land_day(
        settings,
        source,
        resource.name,
        ds,
        resource.pages(),
        primary_key=resource.primary_key,
        cursor_field=resource.cursor_field,
        schema_version=resource.schema_version,
        validate=resource.validate,
        known_fields=resource.known_fields,
        **kwargs,  # type: ignore[arg-type]
    )


def _write_manifest(directory: Path, manifest: Manifest) -> None:
    path = directory / MANIFEST_FILE
    with open(path, "wb") as fh:
        fh.write(manifest.to_json())
        fh.flush()
        os.fsync(fh.fileno())
