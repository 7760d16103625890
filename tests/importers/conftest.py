"""Helpers for importer tests: an own lake per test, and readers for landed and quarantined records."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import orjson
import pytest

from connectors.landing import DATA_FILE, QUARANTINE_FILE
from ops.settings import Settings
from storage.lake import Lake, local_path

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"


@pytest.fixture
def lake_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The session's settings with a lake of this test's own, so tests never see each other's days."""
    return settings.model_copy(update={"lake_uri_override": (tmp_path / "lake").as_uri()})


def _lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with gzip.open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh]


def landed(settings: Settings, source: str, ds: date) -> list[dict]:
    partition = local_path(Lake(settings.lake_uri).ods_partition(source, "order", ds))
    return _lines(partition / DATA_FILE)


def quarantined(settings: Settings, source: str, ds: date) -> list[dict]:
    partition = local_path(Lake(settings.lake_uri).ods_quarantine(source, "order", ds))
    return _lines(partition / QUARANTINE_FILE)
