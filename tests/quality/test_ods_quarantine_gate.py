"""The ODS gate stops a day that is mostly quarantined, names why, and a rerun after the fix recovers.

A day whose records all went to quarantine (the API renamed ``PurchaseDate``, or sent garbage) used to be
published as an empty success and then skipped by every rerun as "already landed". Real sandbox, real
connector, real landing; the corrupt-file case damages a real landing the way a broken disk would.
"""

from __future__ import annotations

import gzip
import hashlib
import stat
from datetime import date
from pathlib import Path

import pytest

from connectors.http import HttpConfig
from connectors.ingest import ingest_source_day
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import sandbox_server
from ops.quality.engine import DataQualityError
from ops.quality.gates import validate_ods_sources
from ops.quality.ods import validate_ods
from ops.settings import Settings
from storage.lake import Lake, local_path
from tests.quality.test_ods_gate import DAY, PAIR, failure_text, land, review

ORDERS_DAY = date(2025, 11, 3)
MARKETPLACES = ("ATVPDKIKX0DER",)
BROKEN = {
    "renamed_fields": FaultConfig(renamed_fields=(("PurchaseDate", "purchaseDate"),)),
    "malformed": FaultConfig(malformed_rate=1.0),
}


def _ingest(settings: Settings, faults: FaultConfig):
    with sandbox_server(SandboxConfig(seed=5, rate_limit_per_second=500.0, faults=faults)) as sandbox:
        aimed = settings.model_copy(update={"sandbox_port": sandbox.port})
        http = HttpConfig(aimed.orders_api_url, 500.0, backoff_initial_seconds=0.02)
        (manifest,) = ingest_source_day(aimed, "orders", ORDERS_DAY, marketplace_ids=MARKETPLACES, http=http)
        return manifest


def _access(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_a_fully_quarantined_day_fails_the_gate_and_is_fetched_again_once_fixed(
    gate_settings: Settings, fault: str
):
    broken = _ingest(gate_settings, BROKEN[fault])
    assert broken.records_received > 100 and broken.records_landed == 0

    with pytest.raises(DataQualityError) as error:
        validate_ods_sources(gate_settings, ORDERS_DAY, ["orders"])
    message = str(error.value)
    assert "ODS orders/order: 1 of 1 partitions failed" in message
    assert f"orders/order ds={ORDERS_DAY.isoformat()} (0 rows)" in message
    assert "[records landed when the API sent some (top quarantine reasons: " in message
    top_reason = max(broken.quarantine_reasons, key=broken.quarantine_reasons.get)
    assert f"{top_reason!r} x{broken.quarantine_reasons[top_reason]}" in message
    assert "quarantine share <= 5.0% from 100 records received" in message

    # the quarantine (raw records, PII included) sits under ods/ with exactly the ODS partition's access
    lake = Lake(gate_settings.lake_uri)
    data = local_path(lake.ods_partition("orders", "order", ORDERS_DAY))
    quarantine = local_path(lake.ods_quarantine("orders", "order", ORDERS_DAY))
    assert quarantine.is_relative_to(local_path(lake.root_uri) / "ods")
    assert _access(quarantine) == _access(data)
    assert _access(quarantine / "part-00000.jsonl.gz") == _access(data / "part-00000.jsonl.gz")

    fixed = _ingest(gate_settings, FaultConfig())  # the rerun after the API is fixed: not "already landed"
    assert fixed.requests > 0 and fixed.records_landed == fixed.records_received == broken.records_received
    assert (
        validate_ods_sources(gate_settings, ORDERS_DAY, ["orders"])["checked"]["orders/order"]
        == fixed.records_landed
    )


def test_the_quarantine_share_threshold_is_a_setting(gate_settings: Settings):
    land(gate_settings, [review(n) for n in range(180)] + [review(1000 + n, rating=9) for n in range(20)])

    message = failure_text(gate_settings)  # 10% quarantined
    assert "quarantine share <= 5.0% from 100 records received" in message
    assert "1 unexpected, e.g. 0.1" in message and "'rating is not an integer in [1, 5]' x20" in message

    lenient = gate_settings.model_copy(update={"ods_max_quarantine_share": 0.15})
    [summary] = validate_ods(lenient, PAIR, DAY)
    assert summary.success and summary.partitions[DAY].rows == 180


def test_a_truncated_gzip_fails_naming_source_partition_file_and_line(gate_settings: Settings):
    texts = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(50)]  # varied: gzip streams it
    folder = land(gate_settings, [review(n, text=text) for n, text in enumerate(texts)])
    data = folder / "part-00000.jsonl.gz"
    whole = data.read_bytes()
    data.write_bytes(whole[: len(whole) // 2])

    message = failure_text(gate_settings)
    assert (
        "expect_file_to_be_valid_gzip [ods/reviews/review/ds=2025-11-06/part-00000.jsonl.gz readable]"
        in message
    )
    assert "gzip is corrupt after line " in message and "EOFError" in message
    line = int(message.split("gzip is corrupt after line ")[1].split(" ")[0])
    assert 0 < line < 50 == len(gzip.decompress(whole).splitlines())

    data.write_bytes(whole)  # the file restored (or landed again): the gate passes
    assert validate_ods(gate_settings, PAIR, DAY)[0].success
