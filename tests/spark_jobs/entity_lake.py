"""Lake helpers shared by the flat-entity DWD tests: ODS written or landed for real, Parquet read back."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from pyspark.sql import SparkSession

from connectors.http import HttpConfig
from connectors.ingest import ingest_source_day
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import sandbox_server
from ops.settings import Settings
from spark_jobs.entity_job import run_entity
from spark_jobs.entity_spec import EntitySpec
from storage.lake import Lake, local_path
from storage.loader import load_dwd_partitions, read_dwd_partition
from storage.warehouse import connect


def ods_records(settings: Settings, source: str, entity: str, day: date) -> list[dict[str, Any]]:
    folder = local_path(Lake(settings.lake_uri).ods_partition(source, entity, day))
    with gzip.open(folder / "part-00000.jsonl.gz", "rb") as fh:
        return [orjson.loads(line) for line in fh]


def parquet_bytes(settings: Settings, entity: str) -> dict[str, bytes]:
    table = local_path(Lake(settings.lake_uri).dwd_table(entity))
    return {str(p.relative_to(table).parent): p.read_bytes() for p in table.rglob("*.parquet")}


def write_ods(settings: Settings, source: str, entity: str, day: date, lines: list[Any]) -> None:
    """ODS in the connector's layout; dicts are served records, str lines land verbatim."""
    folder = local_path(Lake(settings.lake_uri).ods_partition(source, entity, day))
    folder.mkdir(parents=True, exist_ok=True)
    text = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    with gzip.open(folder / "part-00000.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(line + "\n" for line in text)
    (folder / "_manifest.json").write_text(json.dumps({"records": len(text), "checksum": "x"}))


def land_sandbox_day(
    settings: Settings, lake_dir: Path, sources: Iterable[str], seed: int, day: date
) -> Settings:
    """One day of ``sources`` landed by the real connectors from a sandbox duplicating 25% of records."""
    config = SandboxConfig(
        seed=seed, rate_limit_per_second=500.0, rate_limit_burst=100, faults=FaultConfig(duplicate_rate=0.25)
    )
    with sandbox_server(config, port=0) as sandbox:
        run_settings = settings.model_copy(
            update={"sandbox_port": sandbox.port, "lake_uri_override": lake_dir.as_uri()}
        )
        for source in sources:
            http = HttpConfig(run_settings.source_url(source), 500.0, backoff_initial_seconds=0.02)
            ingest_source_day(run_settings, source, day, http=http)
    return run_settings


@dataclass(frozen=True)
class RoundTrip:
    """What :func:`assert_sandbox_day_round_trip` saw, for an entity's own extra checks."""

    served: list[dict[str, Any]]
    latest: dict[Any, dict[str, Any]]
    parquet: dict[str, bytes]
    postgres_text: str


def assert_sandbox_day_round_trip(
    spark: SparkSession,
    settings: Settings,
    case: tuple[EntitySpec, Callable, Callable],
    day: date,
) -> RoundTrip:
    """A landed sandbox day of a flat entity conforms, loads and reruns identically.

    ``case`` is (spec, key_of(served record), expected DWD row(served record)): DWD holds
    exactly the last served version of each key with the served values typed, one file in the day's
    partition; Postgres holds the same rows once each; the run log balances; a rerun is byte-identical.
    """
    spec, key_of, expected_row = case
    entity, source = spec.entity, spec.source
    served = ods_records(settings, source, entity, day)
    latest = {key_of(r): r for r in served}  # the last served version of each key

    counts = run_entity(spark, settings, spec, day)

    assert len(served) > len(latest) > 0  # the sandbox did duplicate records of this day
    assert (counts.rows_in, counts.rows_out) == (len(served), len(latest))
    assert counts.duplicates_dropped == len(served) - len(latest)
    assert counts.rows_rejected == 0 and counts.reconciles
    rows = read_dwd_partition(settings, entity, day).drop(["ds"]).to_pylist()
    expected = [expected_row(r) for r in latest.values()]
    key_columns = list(expected[0])[: len(key_of(served[0]))]

    def order(row: dict) -> tuple:
        return tuple(row[c] for c in key_columns)

    assert len({order(r) for r in rows}) == len(rows)  # one row per business key
    assert rows == sorted(expected, key=order)  # typed values equal the served ones, sorted by key
    first = parquet_bytes(settings, entity)
    assert list(first) == [f"ds={day.isoformat()}"]  # one file, in the run's partition only

    loaded = load_dwd_partitions(settings, entity, [day])
    with connect(settings) as conn:
        pg = conn.execute(f"select count(*), count(distinct ({', '.join(key_columns)})) from dwd.{entity}")
        assert pg.fetchone() == (len(latest), len(latest))
        logged = conn.execute(
            "select rows_in, rows_out, rows_rejected, details->>'duplicates_dropped', details->>'source'"
            " from ops.run_log where step = 'spark_dwd' and entity = %s and ds = %s"
            " order by run_id desc limit 1",
            (entity, day),
        ).fetchone()
        postgres_text = "\n".join(r[0] for r in conn.execute(f"select t::text from dwd.{entity} t"))
    assert loaded == {day: len(latest)}
    assert logged == (len(served), len(latest), 0, str(len(served) - len(latest)), source)

    again = run_entity(spark, settings, spec, day)
    assert (again.rows_in, again.rows_out) == (counts.rows_in, counts.rows_out)
    assert parquet_bytes(settings, entity) == first  # byte-identical rerun
    return RoundTrip(served, latest, first, postgres_text)
