"""The demo summary names the console pages that have rows to act on, on the demo window's warehouse."""

from __future__ import annotations

from ops.settings import Settings
from ops.summary import console_pages, operator_boards
from storage.warehouse import connect
from tests.console.world import LAST_DAY


def test_summary_points_at_the_pages_with_rows(world: Settings) -> None:
    with connect(world) as conn:
        boards = operator_boards(conn)
    pages = console_pages(boards, world)
    base = f"http://127.0.0.1:{world.console_port}"
    assert [p.split(":")[0] for p in pages] == ["SPS risk", "Ads", "SKU alerts"]  # no churn warning yet
    assert pages[0].startswith(f"SPS risk:    {base}/  (1 shops below the SPS red line (P0), {LAST_DAY})")
    assert f"{base}/ads  (10 ad campaign-hours to pause" in pages[1]
