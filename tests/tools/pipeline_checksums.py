"""Run the pipeline on a fresh embedded warehouse and print every dwd/dws/ads table's checksum.

The "behaviour unchanged" proof of a refactor: run it on the commit before and the commit after, with
the same seed and window, and compare (``python -m storage.table_checksums URL --compare before.json``
does the comparison on a live warehouse; here both sides are files)::

    python -m tests.tools.pipeline_checksums --start 2025-11-01 --end 2025-11-03 > after.json

Everything runs in a temporary home on free ports (its own Postgres, lake and sandbox); nothing of the
user's stack is touched.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from dataclasses import asdict
from datetime import date
from pathlib import Path

import psycopg

from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import sandbox_server
from ops.pipeline import backfill
from ops.settings import Settings
from storage import embedded_pg
from storage.bootstrap import ensure_databases, ensure_warehouse
from storage.table_checksums import warehouse_checksums
from storage.warehouse import libpq_url
from tests.conftest import free_port


def run(home: Path, start: date, end: date, seed: int) -> dict:
    settings = Settings(
        home=home,
        pg_port=free_port(),
        sandbox_port=free_port(),
        mlflow_ui_port=free_port(),
        airflow_ui_port=free_port(),
        sandbox_seed=seed,
    )
    embedded_pg.start(settings.pg_data_dir, settings.pg_socket_dir, settings.pg_port)
    try:
        ensure_databases(settings, (settings.pg_database, "mlflow", "airflow"))
        ensure_warehouse(settings.warehouse_url)
        sandbox = SandboxConfig(
            seed=seed,
            access_token=settings.orders_api_token.get_secret_value(),
            rate_limit_per_second=200.0,
            rate_limit_burst=200,
        )
        with sandbox_server(sandbox, settings.sandbox_host, settings.sandbox_port):
            backfill(settings, start, end)
        with psycopg.connect(libpq_url(settings.warehouse_url)) as conn:
            return {name: asdict(c) for name, c in warehouse_checksums(conn).items()}
    finally:
        embedded_pg.stop(settings.pg_data_dir, settings.pg_port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="mercator-checksums-") as home:
        checksums = run(Path(home), args.start, args.end, args.seed)
    json.dump(checksums, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
