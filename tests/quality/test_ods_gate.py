"""ODS checkpoint: a real landed day passes; broken manifests, files and records fail, named.

The good day is landed by the real connectors from the real sandbox; the broken ones are landed by the
real landing code (``land_day``) and then damaged the way a crash, a hand edit or a connector bug would.
"""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from connectors.landing import land_day
from connectors.registry import SOURCES
from connectors.reviews import REVIEW
from connectors.source import Page
from ops.quality.engine import DataQualityError
from ops.quality.gates import validate_ods_sources
from ops.quality.ods import contracts, validate_ods
from ops.settings import Settings
from storage.lake import Lake, local_path
from tests.quality.conftest import DS

DAY = date(2025, 11, 6)
PAIR = [("reviews", "review")]


def review(n: int, **changes: object) -> dict:
    record = {
        "reviewId": f"R{n:05d}",
        "asin": "B0TEST0001",
        "marketplaceId": "ATVPDKIKX0DER",
        "rating": 4,
        "title": "fine",
        "text": "does the job",
        "language": "en",
        "verifiedPurchase": True,
        "postedAt": "2025-11-06T10:00:00Z",
    }
    return {**record, **changes}


def land(settings: Settings, records: list, *, validate=REVIEW.schema.validate) -> Path:
    """Land one reviews day with the real landing code; returns the partition folder."""
    land_day(
        settings,
        "reviews",
        "review",
        DAY,
        [Page(0, records)],
        primary_key=REVIEW.primary_key,
        cursor_field=REVIEW.cursor_field,
        schema_version=REVIEW.schema.version,
        validate=validate,
    )
    return local_path(Lake(settings.lake_uri).ods_partition("reviews", "review", DAY))


def edit_manifest(folder: Path, **changes: object) -> None:
    path = folder / "_manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def failure_text(settings: Settings) -> str:
    with pytest.raises(DataQualityError) as err:
        validate_ods(settings, PAIR, DAY)
    return str(err.value)


def test_a_real_sandbox_day_passes_for_every_source_and_entity(sandbox_day: Settings):
    ods = local_path(Lake(sandbox_day.lake_uri).root_uri) / "ods"
    landed = {(p.parts[-4], p.parts[-3]) for p in ods.glob(f"*/*/ds={DS.isoformat()}/_manifest.json")}
    assert landed == {pair for pair in contracts() if pair[0] in SOURCES}, "a contract per landed entity"

    orders = validate_ods_sources(sandbox_day, DS, ["orders"])
    sources = validate_ods_sources(sandbox_day, DS)

    assert orders["checked"]["orders/order"] > 100
    assert set(sources["checked"]) == {f"{s}/{e}" for s, e in landed}
    assert sources["expectations"] >= 8 * len(sources["checked"])
    index = Path(sources["data_docs"])
    assert index.is_file() and "ODS reviews/review ds=2025-11-05" in index.read_text()
    page = index.parent / "ods" / "reviews_review" / "ds=2025-11-05.html"
    assert "received = landed + quarantined" in page.read_text()


def test_a_clean_landing_with_quarantined_records_passes(gate_settings: Settings):
    land(gate_settings, [review(1), review(2), review(3, rating=9)])  # the third is quarantined

    [summary] = validate_ods(gate_settings, PAIR, DAY)

    assert summary.success and summary.partitions[DAY].rows == 2


def test_manifest_counts_that_do_not_reconcile_fail_naming_the_pair(gate_settings: Settings):
    folder = land(gate_settings, [review(1), review(2), review(3, rating=9)])
    edit_manifest(folder, records_received=4)

    message = failure_text(gate_settings)

    assert "ODS reviews/review: 1 of 1 partitions failed" in message
    assert "reviews/review ds=2025-11-06 (2 rows)" in message
    assert "expect_column_pair_values_to_be_equal [received = landed + quarantined]: 1 unexpected" in message
    assert "e.g. (4, 3)" in message
    assert "checksum" not in message, "only the broken claim is blamed"


def test_a_data_file_that_changed_after_landing_fails_the_checksum(gate_settings: Settings):
    folder = land(gate_settings, [review(1), review(2)])
    data = folder / "part-00000.jsonl.gz"
    lines = gzip.decompress(data.read_bytes())
    data.write_bytes(gzip.compress(lines.replace(b'"rating":4', b'"rating":5', 1), mtime=0))

    message = failure_text(gate_settings)

    assert "[manifest checksum matches the data file]: 1 unexpected" in message
    assert "landed = lines in the data file" not in message  # same line count, different bytes


def test_wrong_schema_version_and_a_lost_quarantine_line_fail(gate_settings: Settings):
    folder = land(gate_settings, [review(1), review(2, rating=0)])
    edit_manifest(folder, schema_version=2)
    quarantine = local_path(Lake(gate_settings.lake_uri).ods_quarantine("reviews", "review", DAY))
    (quarantine / "part-00000.jsonl.gz").write_bytes(gzip.compress(b"", mtime=0))

    message = failure_text(gate_settings)

    assert "expect_column_values_to_be_in_set [schema version is v1]: 1 unexpected, e.g. 2" in message
    assert "[quarantined = lines in the quarantine file]: 1 unexpected, e.g. (1, 0)" in message


def test_records_that_break_the_source_schema_fail_naming_the_field_not_the_value(gate_settings: Settings):
    """A connector that skipped validation: the manifest reconciles, the records do not conform."""
    secret = "Zelda Quux private text"
    records = [review(1), review(2, rating=9, text=secret), {**review(3), "reviewId": None}]
    land(gate_settings, records, validate=lambda record: None)

    message = failure_text(gate_settings)

    assert "expect_column_values_to_not_be_null [reviewId present]: 1 unexpected" in message
    assert "[records conform to reviews/review schema v1]: 2 unexpected" in message
    assert "'rating is not an integer in [1, 5]'" in message and "'reviewId is null'" in message
    assert secret not in message
    assert "received = landed + quarantined" not in message


def test_a_missing_manifest_or_partition_fails_before_gx(gate_settings: Settings):
    folder = land(gate_settings, [review(1)])
    (folder / "_manifest.json").unlink()

    message = failure_text(gate_settings)
    assert "expect_manifest_to_exist [ods/reviews/review/ds=2025-11-06/_manifest.json readable]" in message

    with pytest.raises(DataQualityError, match=r"expect_partition_to_exist .*ds=2025-11-07 landed"):
        validate_ods(gate_settings, PAIR, date(2025, 11, 7))
