"""The console's fixtures: one warehouse built over the demo window, shared by every console test."""

from __future__ import annotations

import pytest

from ops.settings import Settings
from tests.conftest import OwnWarehouse
from tests.console.world import build_world


@pytest.fixture(scope="session")
def world(settings: Settings, own_warehouse: OwnWarehouse) -> Settings:
    return build_world(settings, own_warehouse, "mercator_console_world")
