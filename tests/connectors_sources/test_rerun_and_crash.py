"""Reruns against the real sandbox: a landed day is not fetched again, a crashed interval resumes cleanly.

Record-level faults (malformed, duplicated) stay on; request-level faults stay off here, because a
server's fault dice depend on how often it was asked, and these tests compare request counts and
manifests across runs.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
import pytest

import connectors.landing
from connectors.cursors import ensure_cursor_table, read_cursors
from connectors.http import HttpConfig
from connectors.ingest import ingest_interval, ingest_source_day
from connectors.landing import Manifest
from connectors.orders import DEFAULT_MARKETPLACE_IDS
from connectors.registry import SOURCES, SPECS
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import RunningSandbox, sandbox_server
from ops.cli import build_parser, with_refresh
from ops.settings import Settings
from storage.lake import Lake, local_path
from storage.warehouse import libpq_url
from tests.connectors_sources.sandbox_truth import RATE, SEED

START = date(2025, 11, 5)
MARKETPLACES = ("ATVPDKIKX0DER",)
RECORD_FAULTS = FaultConfig(malformed_rate=0.01, duplicate_rate=0.01)
FAST = {"max_attempts": 10, "backoff_initial_seconds": 0.02, "backoff_max_seconds": 0.2}
TIMESTAMPS = ("started_at", "finished_at")


@pytest.fixture(scope="module")
def sandbox() -> RunningSandbox:
    config = SandboxConfig(seed=SEED, rate_limit_per_second=RATE, rate_limit_burst=20, faults=RECORD_FAULTS)
    with sandbox_server(config) as running:
        yield running


def _reset_cursors(settings: Settings) -> None:
    with psycopg.connect(libpq_url(settings.warehouse_url), autocommit=True) as conn:
        ensure_cursor_table(conn)
        conn.execute("delete from ops.connector_cursor where source = any(%s)", (list(SOURCES),))


def _cursors(settings: Settings) -> dict[str, dict]:
    scopes = {s: (SPECS[s].cursor_scopes(MARKETPLACES) if s in SPECS else MARKETPLACES) for s in SOURCES}
    return {s: read_cursors(settings, s, scopes[s]) for s in SOURCES}


def _http(settings: Settings) -> dict[str, HttpConfig]:
    return {s: HttpConfig(settings.source_url(s), RATE, **FAST) for s in SOURCES}


def _tree(settings: Settings) -> dict[str, bytes]:
    """Every file of the ODS lake by relative path (hidden staging names included: there must be none)."""
    root = local_path(Lake(settings.lake_uri).root_uri)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _without_timestamps(tree: dict[str, bytes]) -> dict[str, object]:
    out: dict[str, object] = {}
    for path, content in tree.items():
        if path.endswith("_manifest.json"):
            manifest = orjson.loads(content)
            out[path] = {k: v for k, v in manifest.items() if k not in TIMESTAMPS}
        else:
            out[path] = hashlib.sha256(content).hexdigest()
    return out


def _run(settings: Settings, start: date, end: date, **kwargs: object) -> list[Manifest]:
    return ingest_interval(settings, start, end, marketplace_ids=MARKETPLACES, http=_http(settings), **kwargs)


def _data(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {path: content for path, content in tree.items() if not path.endswith("_manifest.json")}


def _one(settings: Settings, source: str, marketplace_ids: tuple[str, ...] = MARKETPLACES) -> Manifest:
    (manifest, *_) = ingest_source_day(
        settings, source, START, marketplace_ids=marketplace_ids, http=_http(settings)[source]
    )
    return manifest


class Killed(BaseException):
    """What a kill looks like from inside the writer: not an Exception, nothing may swallow it."""


@pytest.mark.usefixtures("clean_cursors")
def test_a_landed_day_is_not_fetched_again_unless_full_refresh(sandbox, settings_for):
    run_settings = settings_for(sandbox)
    first = _run(run_settings, START, START)
    landed = _tree(run_settings)
    assert {m.source for m in first} == set(SOURCES) and sum(m.records_landed for m in first) > 0
    asked = len(sandbox.stats.snapshot())

    again = _run(run_settings, START, START)
    assert len(sandbox.stats.snapshot()) == asked  # not one request
    assert _tree(run_settings) == landed  # not one byte changed, manifests included
    assert again == first

    # killed after the partitions were published but before the cursor commit: the rerun moves the
    # cursor without fetching anything
    _reset_cursors(run_settings)
    _run(run_settings, START, START)
    assert len(sandbox.stats.snapshot()) == asked
    assert all(set(c.values()) == {end_of(START)} for c in _cursors(run_settings).values())

    # a damaged partition is fetched again, and only that entity's endpoint is asked
    shipment = local_path(Lake(run_settings.lake_uri).ods_partition("logistics", "shipment", START))
    (shipment / "part-00000.jsonl.gz").write_bytes(b"truncated by a broken disk")
    _one(run_settings, "logistics")
    assert {r.path for r in sandbox.stats.snapshot()[asked:]} == {"/logistics/v1/shipments"}
    assert _data(_tree(run_settings)) == _data(landed)  # the sandbox serves the same records: same bytes
    asked = len(sandbox.stats.snapshot())

    # --full-refresh (CLI → settings → ingest) fetches every entity again and lands identical records
    args = build_parser().parse_args(["ingest", "--start", str(START), "--end", str(START), "--full-refresh"])
    refreshed = with_refresh(run_settings, args)
    assert (
        refreshed.ingest_full_refresh
        and not with_refresh(
            run_settings, build_parser().parse_args(["ingest", "--start", str(START), "--end", str(START)])
        ).ingest_full_refresh
    )
    again = _run(refreshed, START, START)
    assert len(sandbox.stats.snapshot()) - asked == sum(m.requests for m in again) > len(again)
    assert _data(_tree(run_settings)) == _data(landed)
    assert [m.checksum_sha256 for m in again] == [m.checksum_sha256 for m in first]
    assert all(a.finished_at >= f.finished_at and a != f for a, f in zip(again, first, strict=True))


def test_a_changed_request_is_not_mistaken_for_a_landed_day(sandbox, settings_for):
    run_settings = settings_for(sandbox)
    one = _one(run_settings, "reviews")
    asked = len(sandbox.stats.snapshot())
    both = _one(run_settings, "reviews", DEFAULT_MARKETPLACE_IDS)  # more marketplaces: a new request
    assert len(sandbox.stats.snapshot()) > asked and both.records_received > one.records_received

    looked_back = _one(run_settings.model_copy(update={"ingest_lookback_hours": 6.0}), "catalog")
    asked = len(sandbox.stats.snapshot())
    day_only = _one(run_settings, "catalog")  # another window: a new request
    assert len(sandbox.stats.snapshot()) > asked
    assert (looked_back.window_start, day_only.window_start) == (
        "2025-11-04T18:00:00Z",
        "2025-11-05T00:00:00Z",
    )


@pytest.mark.usefixtures("clean_cursors")
def test_a_crash_mid_interval_then_a_rerun_equals_an_uninterrupted_run(
    sandbox, settings, tmp_path, monkeypatch
):
    end = START + timedelta(days=1)
    clean = settings.model_copy(
        update={"sandbox_port": sandbox.port, "lake_uri_override": (tmp_path / "clean").as_uri()}
    )
    uninterrupted = _run(clean, START, end)
    expected_cursors, clean_tree = _cursors(clean), _tree(clean)
    fetched_clean = sum(m.requests for m in uninterrupted)
    assert all(set(c.values()) == {end_of(end)} for c in expected_cursors.values())

    _reset_cursors(settings)
    crashed = clean.model_copy(update={"lake_uri_override": (tmp_path / "crashed").as_uri()})
    crash_after = sum(m.records_received for m in uninterrupted) // 2  # lines written before the kill
    write, discard = connectors.landing._GzipLines.write, connectors.landing._LocalStaging.discard
    written = {"lines": 0}

    def dying_write(self, record: object) -> None:
        written["lines"] += 1
        if written["lines"] > crash_after:
            raise Killed("killed while writing")
        write(self, record)

    def no_cleanup_once_killed(self) -> None:  # as after SIGKILL, the staging directories stay behind
        if written["lines"] <= crash_after:
            discard(self)

    monkeypatch.setattr(connectors.landing._GzipLines, "write", dying_write)
    monkeypatch.setattr(connectors.landing._LocalStaging, "discard", no_cleanup_once_killed)
    with pytest.raises(Killed):
        _run(crashed, START, end)
    monkeypatch.undo()
    partial = _tree(crashed)
    visible = {p for p in partial if not any(part.startswith(".") for part in Path(p).parts)}
    assert len(visible) < len(clean_tree) and visible <= set(clean_tree)  # some landed, not all
    assert len(visible) < len(partial)  # the kill left hidden staging files behind
    for path in visible - {p for p in visible if p.startswith("ods/_quarantine/")}:
        assert str(Path(path).parent / "_manifest.json") in visible  # a visible partition is whole
    assert _cursors(crashed) != expected_cursors  # the day being written did not advance its cursor

    asked = len(sandbox.stats.snapshot())
    rerun = _run(crashed, START, end)
    fetched_again = len(sandbox.stats.snapshot()) - asked
    assert 0 < fetched_again < fetched_clean  # days that had landed were not fetched again

    assert _without_timestamps(_tree(crashed)) == _without_timestamps(clean_tree)  # debris gone too
    assert _cursors(crashed) == expected_cursors
    assert [(m.source, m.entity, m.ds) for m in rerun] == [(m.source, m.entity, m.ds) for m in uninterrupted]


def end_of(ds: date) -> datetime:
    return datetime.combine(ds + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


@pytest.mark.parametrize(
    "command", ["run-day --ds 2025-11-05", "backfill --start 2025-11-05 --end 2025-11-05"]
)
def test_full_refresh_on_the_cli_reaches_the_airflow_tasks(command: str, monkeypatch):
    from ops.environment import child_env

    args = build_parser().parse_args([*command.split(), "--full-refresh"])
    env = child_env(with_refresh(Settings(), args))  # what `airflow dags test` and its tasks inherit
    monkeypatch.setenv("MERCATOR_INGEST_FULL_REFRESH", env["MERCATOR_INGEST_FULL_REFRESH"])
    assert Settings().ingest_full_refresh  # get_settings() in a task sees the flag
    plain = child_env(
        with_refresh(Settings(ingest_full_refresh=False), build_parser().parse_args(command.split()))
    )
    monkeypatch.setenv("MERCATOR_INGEST_FULL_REFRESH", plain["MERCATOR_INGEST_FULL_REFRESH"])
    assert not Settings().ingest_full_refresh
