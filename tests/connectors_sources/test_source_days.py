"""ingest_source_day against the real sandbox with faults: every record accounted for, reruns identical."""

from __future__ import annotations

import gzip
import importlib
import re
from datetime import date

import orjson
import pytest

from connectors.http import HttpConfig
from connectors.ingest import ingest_source_day
from connectors.landing import Manifest
from connectors.orders import DEFAULT_MARKETPLACE_IDS
from connectors.registry import SPECS
from connectors.rest import Endpoint
from connectors.source import Window
from storage.lake import Lake, local_path
from tests.connectors_sources.sandbox_truth import RATE, SEED, truth_records

DS = date(2025, 11, 5)  # a CRM send day, so every source has records
FAST = {"backoff_initial_seconds": 0.02, "backoff_max_seconds": 0.2}
HEAVY = {"asin_metrics", "logistics"}  # enough pages and records that the faults surely hit them
REASON = re.compile(r"(missing (?P<a>[\w.]+)|(?P<b>[\w.]+) is (null|not .+)|record is not a JSON object)")
ABSENT = object()


def endpoints(source: str) -> dict[str, Endpoint]:
    module = importlib.import_module(f"connectors.{source}")
    return {e.entity: e for e in vars(module).values() if isinstance(e, Endpoint)}


def _read(path) -> list[dict]:
    if not path.exists():
        return []
    with gzip.open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh]


def _malformed_copy(bad: object, clean: dict) -> bool:
    """True when ``bad`` is ``clean`` with exactly one top-level field removed or changed."""
    if not isinstance(bad, dict):
        return False
    return sum(bad.get(k, ABSENT) != clean.get(k, ABSENT) for k in set(bad) | set(clean)) == 1


@pytest.mark.parametrize("source", list(SPECS))
def test_a_faulty_day_lands_every_record_and_reruns_identically(faulty_sandbox, settings_for, source):
    run_settings = settings_for(faulty_sandbox)
    http = HttpConfig(run_settings.source_url(source), RATE, max_attempts=10, **FAST)
    entities = endpoints(source)
    before = {e.path: len(faulty_sandbox.stats.snapshot(e.path)) for e in entities.values()}

    manifests = ingest_source_day(run_settings, source, DS, http=http)

    assert [m.entity for m in manifests] == list(entities)
    lake = Lake(run_settings.lake_uri)
    for manifest in manifests:
        endpoint = entities[manifest.entity]
        partition = local_path(lake.ods_partition(source, manifest.entity, DS))
        landed = _read(partition / "part-00000.jsonl.gz")
        quarantined = _read(
            local_path(lake.ods_quarantine(source, manifest.entity, DS)) / "part-00000.jsonl.gz"
        )
        fields = (*endpoint.primary_key, endpoint.cursor_field)

        def key(record: dict, fields: tuple[str, ...] = fields) -> tuple:
            return tuple(record.get(f) for f in fields)

        truth = {key(r): r for r in truth_records(manifest.entity, SEED, DS, DEFAULT_MARKETPLACE_IDS)}
        assert truth, f"{manifest.entity}: the sandbox has no records on {DS}; pick another day"
        assert manifest.records_received == manifest.records_landed + manifest.records_quarantined
        assert (manifest.records_landed, manifest.records_quarantined) == (len(landed), len(quarantined))
        assert all(truth[key(r)] == r for r in landed)  # nothing landed that the marketplace did not send
        landed_keys = {key(r) for r in landed}
        assert manifest.duplicates == len(landed) - len(landed_keys)
        missing = [truth[k] for k in set(truth) - landed_keys]
        # zero lost: every clean record not landed is in the quarantine as a malformed copy, and vice versa
        assert all(any(_malformed_copy(q["record"], t) for q in quarantined) for t in missing)
        assert all(any(_malformed_copy(q["record"], t) for t in missing) for q in quarantined)
        for q in quarantined:
            assert (q["source"], q["entity"], q["ds"]) == (source, manifest.entity, DS.isoformat())
            match = REASON.fullmatch(q["reason"])  # a reason names a field, never a value
            assert match and (match["a"] or match["b"]) in endpoint.schema.known_fields, q["reason"]
        assert manifest.schema_version == endpoint.schema.version and manifest.drift == ()
        assert (manifest.window_start, manifest.window_end) == tuple(
            m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in (Window.for_day(DS).start, Window.for_day(DS).end)
        )
        statuses = faulty_sandbox.stats.status_counts(endpoint.path)
        served = len(faulty_sandbox.stats.snapshot(endpoint.path)) - before[endpoint.path]
        assert manifest.requests == served  # every request the server saw is in the manifest
        assert Manifest.read(partition) == manifest
        if source in HEAVY:
            assert statuses[429] > 0 and statuses[500] + statuses[503] > 0  # the faults really happened
            assert manifest.records_quarantined > 0 and manifest.duplicates > 0

    rerun = ingest_source_day(run_settings, source, DS, http=http, full_refresh=True)
    assert [m.checksum_sha256 for m in rerun] == [m.checksum_sha256 for m in manifests]
    assert [m.records_quarantined for m in rerun] == [m.records_quarantined for m in manifests]
