"""ODS checkpoint: a landed (source, entity, day) is whole, reconciled and in its source's schema.

Two GX suites per partition. The **manifest** suite runs on one row holding the manifest's claims next
to what the files really hold (line counts, sha256), so "received = landed + quarantined", "checksum
matches the file" and "schema version" fail like any expectation, with the observed pair. The
**records** suite runs on the landed records' key and cursor fields plus the connector's own verdict
on each record (``RecordSchema.validate``; reasons name fields, never values).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from connectors.landing import top_reasons
from ops.quality.docs import write_page
from ops.quality.engine import (
    Check,
    Failure,
    PartitionResult,
    Suite,
    SuiteRunner,
    ValidationSummary,
    failures,
    raise_if_failed,
)
from ops.settings import Settings
from storage.lake import Lake, local_path

log = logging.getLogger(__name__)

MANIFEST_FILE = "_manifest.json"
SCHEMA_PROBLEM = "_schema_problem"


@dataclass(frozen=True)
class OdsContract:
    """What the connector promises about an entity's landed records (from its declaration, not a copy)."""

    source: str
    entity: str
    schema_version: int
    primary_key: tuple[str, ...]
    cursor_field: str
    validate: Callable[[Any], str | None]

    @property
    def key_fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.primary_key, self.cursor_field)))


@cache
def contracts() -> Mapping[tuple[str, str], OdsContract]:
    """Every entity the connectors land: each source's declared endpoints."""
    from connectors.registry import SPECS
    from connectors.rest import Endpoint

    found = {}
    for source, spec in SPECS.items():
        module = sys.modules[spec.build.__module__]
        for endpoint in vars(module).values():
            if isinstance(endpoint, Endpoint):
                found[(source, endpoint.entity)] = OdsContract(
                    source,
                    endpoint.entity,
                    endpoint.schema.version,
                    endpoint.primary_key,
                    endpoint.cursor_field,
                    endpoint.schema.validate,
                )
    return found


def source_entities(sources: Iterable[str]) -> list[tuple[str, str]]:
    wanted = set(sources)
    return sorted(pair for pair in contracts() if pair[0] in wanted)


def _quarantine_checks(manifest: Mapping[str, Any], settings: Settings) -> tuple[Check, ...]:
    """A day mostly quarantined, or with nothing landed of what the API sent, is no day of data.

    The labels carry the day's top quarantine reasons, so the alert says why without opening the files.
    """
    reasons = top_reasons(manifest.get("quarantine_reasons") or {})
    share = settings.ods_max_quarantine_share
    return (
        Check(
            "ExpectColumnValuesToBeInSet",
            {"column": "landed_any_received", "value_set": [True]},
            f"records landed when the API sent some (top quarantine reasons: {reasons})",
        ),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "judged_quarantine_share", "max_value": share},
            f"quarantine share <= {share:.1%} from {settings.ods_quarantine_min_received} records "
            f"received (top quarantine reasons: {reasons})",
        ),
    )


def _manifest_suite(contract: OdsContract, ds: date, quarantine: tuple[Check, ...]) -> Suite:
    return Suite(
        checks=(
            *quarantine,
            Check(
                "ExpectColumnPairValuesToBeEqual",
                {"column_A": "records_received", "column_B": "landed_plus_quarantined"},
                "received = landed + quarantined",
            ),
            Check(
                "ExpectColumnPairValuesToBeEqual",
                {"column_A": "records_landed", "column_B": "data_file_lines"},
                "landed = lines in the data file",
            ),
            Check(
                "ExpectColumnPairValuesToBeEqual",
                {"column_A": "records_quarantined", "column_B": "quarantine_file_lines"},
                "quarantined = lines in the quarantine file",
            ),
            Check(
                "ExpectColumnPairValuesToBeEqual",
                {"column_A": "checksum_sha256", "column_B": "data_file_sha256"},
                "manifest checksum matches the data file",
            ),
            Check(
                "ExpectColumnValuesToBeInSet",
                {"column": "schema_version", "value_set": [contract.schema_version]},
                f"schema version is v{contract.schema_version}",
            ),
            Check(
                "ExpectColumnValuesToBeInSet",
                {
                    "column": "partition",
                    "value_set": [f"{contract.source}/{contract.entity}/{ds.isoformat()}"],
                },
                "manifest names this source, entity and ds",
            ),
        )
    )


def _partition_name(contract: OdsContract, ds: date) -> str:
    return f"{contract.source}/{contract.entity}/{ds.isoformat()}"


def _records_suite(contract: OdsContract) -> Suite:
    not_null = tuple(
        Check("ExpectColumnValuesToNotBeNull", {"column": f}, f"{f} present") for f in contract.key_fields
    )
    conform = Check(
        "ExpectColumnValuesToBeNull",
        {"column": SCHEMA_PROBLEM},
        f"records conform to {contract.source}/{contract.entity} schema v{contract.schema_version}",
    )
    return Suite(checks=(*not_null, conform))


def _lines(path: Path, where: str) -> list[bytes]:
    """The non-empty lines; a corrupt or truncated gzip fails naming the file and the last good line."""
    if not path.exists():
        return []
    try:
        with gzip.open(path, "rb") as fh:
            return [line for line in fh if line.strip()]
    except (EOFError, OSError, zlib.error) as error:
        good = _whole_lines_before_damage(path)
        problem = f"{where}/{path.name}: gzip is corrupt after line {good} ({type(error).__name__}: {error})"
        raise _Precondition(
            Failure(f"{where}/{path.name} readable", "expect_file_to_be_valid_gzip", None, (), problem)
        ) from error


def _whole_lines_before_damage(path: Path) -> int:
    """How many complete lines a damaged gzip still yields (zlib hands out what it could inflate)."""
    try:
        return zlib.decompressobj(wbits=31).decompress(path.read_bytes()).count(b"\n")
    except zlib.error:
        return 0


def _manifest_frame(
    manifest: Mapping[str, Any], data: Path, quarantine_lines: int, lines: int, min_received: int
) -> pd.DataFrame:
    """The manifest's claims beside the files' facts, as the one row the manifest suite checks."""
    digest = hashlib.sha256(data.read_bytes()).hexdigest() if data.exists() else None
    received = int(manifest.get("records_received") or 0)
    quarantined = int(manifest.get("records_quarantined") or 0)
    share = quarantined / received if received >= max(min_received, 1) else 0.0
    return pd.DataFrame(
        [
            {
                "landed_any_received": received == 0 or bool(manifest.get("records_landed")),
                "judged_quarantine_share": share,
                "records_received": manifest.get("records_received"),
                "records_landed": manifest.get("records_landed"),
                "records_quarantined": manifest.get("records_quarantined"),
                "landed_plus_quarantined": (manifest.get("records_landed") or 0)
                + (manifest.get("records_quarantined") or 0),
                "data_file_lines": lines,
                "quarantine_file_lines": quarantine_lines,
                "checksum_sha256": manifest.get("checksum_sha256"),
                "data_file_sha256": digest,
                "schema_version": manifest.get("schema_version"),
                "partition": f"{manifest.get('source')}/{manifest.get('entity')}/{manifest.get('ds')}",
            }
        ]
    )


def _record_row(line: bytes, contract: OdsContract) -> dict[str, Any]:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {**dict.fromkeys(contract.key_fields), SCHEMA_PROBLEM: "line is not JSON"}
    if not isinstance(record, dict):
        return {**dict.fromkeys(contract.key_fields), SCHEMA_PROBLEM: "record is not a JSON object"}
    row: dict[str, Any] = {f: record.get(f) for f in contract.key_fields}
    row[SCHEMA_PROBLEM] = contract.validate(record)
    return row


def _records_frame(lines: list[bytes], contract: OdsContract) -> pd.DataFrame:
    columns = [*contract.key_fields, SCHEMA_PROBLEM]
    return pd.DataFrame([_record_row(line, contract) for line in lines], columns=columns, dtype=object)


class _Precondition(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def _read_manifest(folder: Path, contract: OdsContract, ds: date) -> dict[str, Any]:
    where = f"ods/{contract.source}/{contract.entity}/ds={ds.isoformat()}"
    if not folder.is_dir():
        raise _Precondition(
            Failure(f"{where} landed", "expect_partition_to_exist", None, (), error="no partition")
        )
    try:
        return orjson.loads((folder / MANIFEST_FILE).read_bytes())
    except FileNotFoundError:
        error = f"{MANIFEST_FILE} is missing"
    except orjson.JSONDecodeError:
        error = f"{MANIFEST_FILE} is not valid JSON"
    raise _Precondition(
        Failure(f"{where}/{MANIFEST_FILE} readable", "expect_manifest_to_exist", None, (), error)
    )


def validate_ods_partition(settings: Settings, source: str, entity: str, ds: date) -> ValidationSummary:
    """Check one landed partition; returns its summary (the caller raises, so all pairs get reported)."""
    started = time.monotonic()
    contract = contracts()[(source, entity)]
    lake = Lake(settings.lake_uri)
    folder = local_path(lake.ods_partition(source, entity, ds))
    name = f"{source}/{entity}"
    quarantine = local_path(lake.ods_quarantine(source, entity, ds))
    try:
        manifest = _read_manifest(folder, contract, ds)
        data = folder / str(manifest.get("data_file") or "part-00000.jsonl.gz")
        day = f"{source}/{entity}/ds={ds.isoformat()}"
        lines = _lines(data, f"ods/{day}")
        quarantine_lines = len(_lines(quarantine / "part-00000.jsonl.gz", f"ods/_quarantine/{day}"))
    except _Precondition as unreadable:
        write_page(settings, "ODS", name, ds, 0, (), (unreadable.failure,))
        result = PartitionResult(ds, 0, 1, (unreadable.failure,))
        return ValidationSummary(name, {ds: result}, time.monotonic() - started, layer="ODS")
    suite = _manifest_suite(contract, ds, _quarantine_checks(manifest, settings))
    manifest_runner = SuiteRunner(_gx_name("ods_manifest", name), suite)
    records_runner = SuiteRunner(_gx_name("ods_records", name), _records_suite(contract))
    frame = _manifest_frame(
        manifest, data, quarantine_lines, len(lines), settings.ods_quarantine_min_received
    )
    outcomes = [
        *manifest_runner.run(frame),
        *records_runner.run(_records_frame(lines, contract)),
    ]
    page = write_page(settings, "ODS", name, ds, len(lines), outcomes)
    failed = failures(outcomes)
    log.info(
        "ods %s ds=%s: %d records, %d/%d expectations passed (data docs: %s)",
        name,
        ds,
        len(lines),
        len(outcomes) - len(failed),
        len(outcomes),
        page,
    )
    result = PartitionResult(ds, len(lines), len(outcomes), failed)
    return ValidationSummary(name, {ds: result}, time.monotonic() - started, layer="ODS")


def _gx_name(kind: str, name: str) -> str:
    return f"{kind}_{name.replace('/', '_')}"


def validate_ods(settings: Settings, pairs: Iterable[tuple[str, str]], ds: date) -> list[ValidationSummary]:
    """Every (source, entity) of ``ds``; raises one DataQualityError naming each failed partition."""
    summaries = [validate_ods_partition(settings, source, entity, ds) for source, entity in pairs]
    for summary in summaries:
        if not summary.success:
            log.error("%s", summary.describe())
    raise_if_failed(summaries)
    return summaries
