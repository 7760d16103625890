"""Schema drift against the real sandbox: an added field is recorded and landed, a renamed key stops the run.

The sandbox's drift switches (``FaultConfig.added_field`` / ``renamed_fields``) change every record of
every endpoint, as a new API version would.
"""

from __future__ import annotations

import gzip
from datetime import date

import orjson
import pytest

from connectors.cursors import ensure_cursor_table
from connectors.ingest import ingest_source_day
from connectors.landing import SchemaDriftError
from connectors.sandbox.config import FaultConfig, SandboxConfig
from storage.lake import Lake, local_path
from storage.warehouse import connect

DS = date(2025, 11, 5)


def _landed(settings, source: str, entity: str) -> list[dict]:
    path = local_path(Lake(settings.lake_uri).ods_partition(source, entity, DS)) / "part-00000.jsonl.gz"
    with gzip.open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh]


@pytest.fixture(autouse=True)
def no_review_cursor(settings) -> None:
    with connect(settings) as conn:
        ensure_cursor_table(conn)
        conn.execute("delete from ops.connector_cursor where source = 'reviews'")


def test_an_added_field_is_recorded_as_drift_and_does_not_stop_the_run(start_sandbox, settings_for):
    sandbox = start_sandbox(SandboxConfig(faults=FaultConfig(added_field="reviewerRegion")))
    run_settings = settings_for(sandbox)

    (manifest,) = ingest_source_day(run_settings, "reviews", DS)

    assert manifest.records_received > 0
    assert manifest.records_landed == manifest.records_received  # nothing quarantined for a new field
    assert manifest.drift == ("reviewerRegion",)
    landed = _landed(run_settings, "reviews", "review")
    assert len(landed) == manifest.records_landed and all("reviewerRegion" in r for r in landed)


def test_a_renamed_key_field_stops_the_run_naming_it_and_publishes_nothing(start_sandbox, settings_for):
    sandbox = start_sandbox(SandboxConfig(faults=FaultConfig(renamed_fields=(("reviewId", "review_id"),))))
    run_settings = settings_for(sandbox)

    with pytest.raises(SchemaDriftError) as error:
        ingest_source_day(run_settings, "reviews", DS)

    message = str(error.value)
    assert "reviews/review ds=2025-11-05" in message and "key field 'reviewId'" in message
    assert "review_id" in message  # the new name is among the fields the page had
    partition = local_path(Lake(run_settings.lake_uri).ods_partition("reviews", "review", DS))
    assert not partition.exists(), "a drifted key publishes nothing"
    with connect(run_settings) as conn:
        moved = conn.execute("select count(*) from ops.connector_cursor where source = 'reviews'").fetchone()
    assert moved == (0,), "the cursor did not move"
