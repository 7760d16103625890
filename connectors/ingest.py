"""What the DAG calls: land one day of a source in the ODS lake and advance its cursor.

Each function is idempotent per day: rerunning replaces the day's partition with the same records, and
the cursor (a forward-only high-water mark) moves only after the partition and its manifest are durable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date, datetime
from urllib.parse import urlsplit

import orjson
import psycopg

from connectors.cursors import advance_cursors, read_cursors
from connectors.http import ApiClient, HttpConfig
from connectors.landing import Manifest, land_resource
from connectors.orders import DEFAULT_MARKETPLACE_IDS, ENTITY, SOURCE, orders_source
from connectors.registry import spec as source_spec
from connectors.source import Window
from ops.settings import Settings
from storage.warehouse import connect

log = logging.getLogger(__name__)


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _log_run(conn: psycopg.Connection, manifest: Manifest) -> None:
    details = {
        "requests": manifest.requests,
        "duplicates": manifest.duplicates,
        "checksum_sha256": manifest.checksum_sha256,
        "cursor_after": manifest.cursor_after,
        "drift": list(manifest.drift),
    }
    conn.execute(
        "insert into ops.run_log (step, entity, ds, rows_in, rows_out, rows_rejected, details)"
        " values ('ingest', %s, %s, %s, %s, %s, %s::jsonb)",
        (
            f"{manifest.source}.{manifest.entity}",
            manifest.ds,
            manifest.records_received,
            manifest.records_landed,
            manifest.records_quarantined,
            orjson.dumps(details).decode(),
        ),
    )


def ingest_orders_day(
    settings: Settings,
    ds: date,
    *,
    marketplace_ids: Sequence[str] = DEFAULT_MARKETPLACE_IDS,
    http: HttpConfig | None = None,
) -> Manifest:
    """Land orders changed in [ds 00:00Z, ds+1 00:00Z) in ``marketplace_ids``; returns the manifest.

    ``http`` overrides the client configuration derived from settings (backoff tuning, tests).
    """
    started = time.monotonic()
    window = Window.for_day(ds)
    before = read_cursors(settings, SOURCE, marketplace_ids)
    after: dict[str, datetime | None] = {
        mp: window.end if value is None else max(value, window.end) for mp, value in before.items()
    }
    http = http or HttpConfig.from_settings(
        settings, settings.orders_api_url, settings.orders_requests_per_second
    )
    log.info(
        "%s/%s ds=%s: fetching window %s for %s from %s at <= %g req/s",
        SOURCE,
        ENTITY,
        ds,
        window,
        ",".join(marketplace_ids),
        _safe_url(http.base_url),
        http.requests_per_second,
    )
    with ApiClient(SOURCE, http, settings.orders_api_token) as client:
        resource = orders_source(client, window, marketplace_ids).resource(ENTITY)
        manifest = land_resource(
            settings, SOURCE, resource, ds, cursor_before=before, cursor_after=after, window=window
        )
    with connect(settings) as conn:  # one transaction: cursor and run log move together
        advance_cursors(settings, SOURCE, dict.fromkeys(marketplace_ids, window.end), conn=conn)
        _log_run(conn, manifest)
    log.info(
        "%s/%s ds=%s: in %d records (%d requests, %d pages) -> out %d landed, %d quarantined, %d duplicates; "
        "sha256 %s; %.1f s",
        SOURCE,
        ENTITY,
        ds,
        manifest.records_received,
        manifest.requests,
        manifest.pages,
        manifest.records_landed,
        manifest.records_quarantined,
        manifest.duplicates,
        manifest.checksum_sha256[:12],
        time.monotonic() - started,
    )
    return manifest


def ingest_source_day(
    settings: Settings,
    source: str,
    ds: date,
    *,
    marketplace_ids: Sequence[str] = DEFAULT_MARKETPLACE_IDS,
    http: HttpConfig | None = None,
) -> list[Manifest]:
    """Land one day of ``source`` (one of ``connectors.registry.SOURCES``); one manifest per entity.

    The DAG maps one task over ``SOURCES`` with this function. Every entity of the source lands under
    ``ods/<source>/<entity>/ds=…/`` atomically; the source's cursor (per marketplace, or ``*`` for sources
    not split by marketplace) advances together with the run log, only after every entity has landed.
    ``http`` overrides the client configuration derived from settings (backoff tuning, tests).
    """
    if source == SOURCE:
        return [ingest_orders_day(settings, ds, marketplace_ids=marketplace_ids, http=http)]
    spec = source_spec(source)
    started = time.monotonic()
    window = Window.for_day(ds)
    scopes = spec.cursor_scopes(marketplace_ids)
    before = read_cursors(settings, source, scopes)
    after: dict[str, datetime | None] = {
        scope: window.end if value is None else max(value, window.end) for scope, value in before.items()
    }
    http = http or HttpConfig.from_settings(settings, settings.source_url(source), spec.requests_per_second)
    log.info(
        "%s ds=%s: fetching window %s for %s from %s at <= %g req/s per endpoint",
        source,
        ds,
        window,
        ",".join(scopes),
        _safe_url(http.base_url),
        http.requests_per_second,
    )
    manifests: list[Manifest] = []
    with ApiClient(source, http, settings.source_token(source)) as client:
        for resource in spec.build(client, window, marketplace_ids).resources:
            manifest = land_resource(
                settings, source, resource, ds, cursor_before=before, cursor_after=after, window=window
            )
            manifests.append(manifest)
            log.info(
                "%s/%s ds=%s: in %d records (%d requests, %d pages) -> out %d landed, %d quarantined, "
                "%d duplicates; sha256 %s",
                source,
                resource.name,
                ds,
                manifest.records_received,
                manifest.requests,
                manifest.pages,
                manifest.records_landed,
                manifest.records_quarantined,
                manifest.duplicates,
                manifest.checksum_sha256[:12],
            )
    with connect(settings) as conn:  # one transaction: cursor and run logs move together
        advance_cursors(settings, source, dict.fromkeys(scopes, window.end), conn=conn)
        for manifest in manifests:
            _log_run(conn, manifest)
    log.info(
        "%s ds=%s: %d entities, in %d records -> out %d landed, %d quarantined; %.1f s",
        source,
        ds,
        len(manifests),
        sum(m.records_received for m in manifests),
        sum(m.records_landed for m in manifests),
        sum(m.records_quarantined for m in manifests),
        time.monotonic() - started,
    )
    return manifests
