"""What the dbt test modules share: a warehouse database of a module's own, and the pinned mart checksums."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from ops.settings import Settings
from storage.table_checksums import TableChecksum, differences, warehouse_checksums
from storage.warehouse import connect

ROOT = Path(__file__).resolve().parents[2]
PINNED_CHECKSUMS = Path(__file__).with_name("mart_checksums.json")
PIN_ENV = "MERCATOR_PIN_MART_CHECKSUMS"


def assert_marts_match_pinned(settings: Settings, world: str) -> None:
    """Every dws/ads table of ``world`` has the rows and checksum pinned in mart_checksums.json.

    A refactor of the dbt project must leave the marts byte for byte as they were (wall-clock columns
    aside, see storage.table_checksums). After an intended change of a mart, rerun the failing module
    with ``MERCATOR_PIN_MART_CHECKSUMS=1`` to pin the new figures, and say in the commit why they moved.
    """
    with connect(settings) as conn:
        current = warehouse_checksums(conn, ("dws", "ads"))
    pinned_worlds = json.loads(PINNED_CHECKSUMS.read_text()) if PINNED_CHECKSUMS.exists() else {}
    if os.environ.get(PIN_ENV) == "1":
        pinned_worlds[world] = {name: asdict(checksum) for name, checksum in current.items()}
        PINNED_CHECKSUMS.write_text(json.dumps(pinned_worlds, indent=1, sort_keys=True) + "\n")
    assert world in pinned_worlds, f"no checksums pinned for {world!r}: run with {PIN_ENV}=1"
    pinned = {
        name: TableChecksum(rows=c["rows"], checksum=c["checksum"], columns=tuple(c["columns"]))
        for name, c in pinned_worlds[world].items()
    }
    changed = differences(pinned, current)
    assert not changed, f"{world}: marts differ from the pinned checksums ({PIN_ENV}=1 re-pins): {changed}"
