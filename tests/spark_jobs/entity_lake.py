"""Lake helpers shared by the flat-entity DWD tests: ODS written or landed for real, Parquet read back."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from connectors.http import HttpConfig
from connectors.ingest import ingest_source_day
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import sandbox_server
from ops.settings import Settings
from storage.lake import Lake, local_path


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
