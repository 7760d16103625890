"""What the DAG calls: land one day of a source in the ODS lake and advance its cursor.

Each function is idempotent per day: the cursor (a forward-only high-water mark) moves only after the
partitions and their manifests are durable. A rerun leaves an entity whose day already landed (same
window, same marketplaces, intact data file) alone without fetching it, so a crashed run resumes where it
stopped and a repeated DAG run costs no API budget; ``full_refresh`` fetches and replaces it whole.
Windowed sources may look back before their day (records published late) and are requested in slices.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import psycopg

from connectors.cursors import advance_cursors, read_cursors
from connectors.http import ApiClient, HttpConfig
from connectors.landing import Manifest, land_resource, manifest_problem, published_manifest
from connectors.orders import DEFAULT_MARKETPLACE_IDS
from connectors.registry import SOURCES
from connectors.registry import spec as source_spec
from connectors.rest import SourceSpec
from connectors.source import Resource, Window, iso_z
from ops.settings import Settings
from storage.run_log import has_run, record_run
from storage.warehouse import connect

log = logging.getLogger(__name__)

STEP = "ingest"


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _log_run(conn: psycopg.Connection, manifest: Manifest) -> None:
    record_run(
        conn,
        step=STEP,
        entity=f"{manifest.source}.{manifest.entity}",
        ds=manifest.ds,
        rows_in=manifest.records_received,
        rows_out=manifest.records_landed,
        rows_rejected=manifest.records_quarantined,
        details={
            "requests": manifest.requests,
            "duplicates": manifest.duplicates,
            "checksum_sha256": manifest.checksum_sha256,
            "cursor_after": manifest.cursor_after,
            "drift": list(manifest.drift),
        },
    )


def _log_run_if_missing(conn: psycopg.Connection, manifest: Manifest) -> None:
    """Log a reused manifest that has no run-log row yet (a crash hit between publish and commit).

    ``ops.run_log`` is where the warehouse sees the ODS manifests' counts (``ads_reconciliation`` reads
    them there), so every published partition must have its row, but a rerun must not add one per run.
    """
    entity = f"{manifest.source}.{manifest.entity}"
    checksum = manifest.checksum_sha256
    if not has_run(conn, step=STEP, entity=entity, ds=manifest.ds, detail="checksum_sha256", value=checksum):
        _log_run(conn, manifest)


def record_manifests(settings: Settings, manifests: Sequence[Manifest]) -> None:
    """Log published manifests that have no run-log row yet, in one transaction.

    For callers that land without the ingest (the file importers): their days then reconcile in
    ``ads_reconciliation`` like the API's. Logging the same manifest again adds nothing.
    """
    with connect(settings) as conn:
        for manifest in manifests:
            _log_run_if_missing(conn, manifest)


def ingest_source_day(
    settings: Settings,
    source: str,
    ds: date,
    *,
    marketplace_ids: Sequence[str] = DEFAULT_MARKETPLACE_IDS,
    http: HttpConfig | None = None,
    full_refresh: bool | None = None,
) -> list[Manifest]:
    """Land one day of ``source`` (one of ``connectors.registry.SOURCES``); one manifest per entity.

    Every entity of the source lands under ``ods/<source>/<entity>/ds=…/`` atomically; the source's cursor
    (per marketplace, or ``*`` for sources not split by marketplace) advances together with the run log,
    only after every entity has landed. ``http`` overrides the client configuration derived from settings
    (backoff tuning, tests); ``full_refresh`` (default: ``settings.ingest_full_refresh``) fetches entities
    whose day already landed.
    """
    return _ingest_day(settings, source_spec(source), ds, marketplace_ids, http, full_refresh)


def ingest_interval(
    settings: Settings,
    start: date,
    end: date,
    *,
    sources: Sequence[str] = SOURCES,
    marketplace_ids: Sequence[str] = DEFAULT_MARKETPLACE_IDS,
    http: Mapping[str, HttpConfig] | None = None,
    full_refresh: bool | None = None,
) -> list[Manifest]:
    """Every day of [start, end] of every source in ``sources``, day by day, oldest first.

    Rerunning an interval after a crash fetches only what had not landed yet (unless ``full_refresh``),
    and leaves the same partitions and cursors as a run that never crashed. ``http`` maps a source to a
    client configuration of its own (tests); unlisted sources use the one derived from settings.
    """
    if end < start:
        raise ValueError(f"interval end {end} is before start {start}")
    manifests: list[Manifest] = []
    for offset in range((end - start).days + 1):
        ds = start + timedelta(days=offset)
        for source in sources:
            config = (http or {}).get(source)
            manifests += ingest_source_day(
                settings, source, ds, marketplace_ids=marketplace_ids, http=config, full_refresh=full_refresh
            )
    return manifests


class FutureIntervalError(ValueError):
    """An interval that ends after now: its records do not exist yet, and landing it would move cursors
    into the future, where they stay."""


def refuse_future(settings: Settings, what: str, end: datetime, now: datetime | None = None) -> None:
    """Raise :class:`FutureIntervalError` if ``end`` lies beyond now plus the clock-skew allowance."""
    now = now or datetime.now(UTC)
    allowance = timedelta(seconds=settings.ingest_clock_skew_seconds)
    if end > now + allowance:
        raise FutureIntervalError(
            f"{what}: the interval ends {iso_z(end)}, after now ({iso_z(now)}) plus the "
            f"{settings.ingest_clock_skew_seconds:g} s clock-skew allowance "
            "(MERCATOR_INGEST_CLOCK_SKEW_SECONDS); refusing a future interval. Run a day once it is over."
        )


def _reusable(
    settings: Settings, source: str, resource: Resource, ds: date, window: Window, scopes: Sequence[str]
) -> Manifest | None:
    """The landed manifest of this exact request (window, marketplaces, schema), if the day has one."""
    manifest = published_manifest(settings, source, resource.name, ds)
    if manifest is None:
        return None
    problem = manifest_problem(manifest, settings)
    if problem is not None:  # the ODS gate failed this day: a rerun must fetch it again
        log.warning("%s/%s ds=%s: %s; fetching the day again", source, resource.name, ds, problem)
        return None
    same = (
        (manifest.window_start, manifest.window_end) == (iso_z(window.start), iso_z(window.end))
        and set(manifest.cursor_after) == set(scopes)
        and manifest.schema_version == resource.schema_version
    )
    return manifest if same else None


def _ingest_day(
    settings: Settings,
    spec: SourceSpec,
    ds: date,
    marketplace_ids: Sequence[str],
    http: HttpConfig | None,
    full_refresh: bool | None,
) -> list[Manifest]:
    started = time.monotonic()
    source, day = spec.name, Window.for_day(ds)
    refuse_future(settings, f"{source} ds={ds}", day.end)
    window = spec.fetch_window(day, settings.ingest_lookback_hours)
    refresh = settings.ingest_full_refresh if full_refresh is None else full_refresh
    scopes = spec.cursor_scopes(marketplace_ids)
    before = read_cursors(settings, source, scopes)
    after: dict[str, datetime | None] = {
        scope: day.end if value is None else max(value, day.end) for scope, value in before.items()
    }
    http = http or HttpConfig.from_settings(
        settings, settings.source_url(source), settings.source_rate(source, spec.requests_per_second)
    )
    log.info(
        "%s ds=%s: window %s for %s from %s at <= %g req/s per endpoint%s",
        source,
        ds,
        window,
        ",".join(scopes),
        _safe_url(http.base_url),
        http.requests_per_second,
        " (full refresh)" if refresh else "",
    )
    manifests: list[Manifest] = []
    fresh: list[Manifest] = []
    reused: list[Manifest] = []
    with ApiClient(source, http, settings.source_token(source)) as client:
        declared = spec.build_sliced(client, window, marketplace_ids, settings.ingest_max_slice_hours)
        for resource in declared.resources:
            landed = None if refresh else _reusable(settings, source, resource, ds, window, scopes)
            if landed is not None:
                log.info(
                    "%s/%s ds=%s: already landed (sha256 %s); not fetched again",
                    source,
                    resource.name,
                    ds,
                    landed.checksum_sha256[:12],
                )
                manifests.append(landed)
                reused.append(landed)
                continue
            manifest = land_resource(
                settings, source, resource, ds, cursor_before=before, cursor_after=after, window=window
            )
            manifests.append(manifest)
            fresh.append(manifest)
            _log_landed(manifest)
    with connect(settings) as conn:  # one transaction: cursor and run logs move together
        advance_cursors(settings, source, dict.fromkeys(scopes, day.end), conn=conn)
        for manifest in fresh:
            _log_run(conn, manifest)
        for manifest in reused:
            _log_run_if_missing(conn, manifest)
    log.info(
        "%s ds=%s: %d entities (%d fetched), in %d records -> out %d landed, %d quarantined; %.1f s",
        source,
        ds,
        len(manifests),
        len(fresh),
        sum(m.records_received for m in manifests),
        sum(m.records_landed for m in manifests),
        sum(m.records_quarantined for m in manifests),
        time.monotonic() - started,
    )
    return manifests


def _log_landed(manifest: Manifest) -> None:
    log.info(
        "%s/%s ds=%s: in %d records (%d requests, %d pages) -> out %d landed, %d quarantined, "
        "%d duplicates; sha256 %s",
        manifest.source,
        manifest.entity,
        manifest.ds,
        manifest.records_received,
        manifest.requests,
        manifest.pages,
        manifest.records_landed,
        manifest.records_quarantined,
        manifest.duplicates,
        manifest.checksum_sha256[:12],
    )
