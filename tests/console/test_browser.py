"""The console in a real browser: the Streamlit server started as the stack starts it, Debian's chromium
driven by Playwright. Every board loads without an error (and the README's screenshot script works), a
filter changes the table, the Excel download opens with typed cells, and a "contacted" mark survives a
reload and takes the customer off tomorrow's list."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page

from ops import processes
from ops.console.navigation import BOARDS
from ops.console.screenshots import capture, chromium, open_board, settled
from ops.console.service import console_service
from ops.environment import child_env
from ops.settings import Settings
from storage.warehouse import connect
from tests.conftest import free_port
from tests.console.world import LAST_DAY

TODAY, TOMORROW = LAST_DAY, LAST_DAY + timedelta(days=1)  # the follow-up list's day: the mart's as-of day


@pytest.fixture(scope="module")
def console_url(world: Settings) -> Iterator[str]:
    served = world.model_copy(update={"console_port": free_port()})
    service = console_service(served)
    processes.start(service, child_env(served), timeout_s=120)
    try:
        yield service.url
    finally:
        processes.stop(service)


@pytest.fixture(scope="module")
def browser(console_url: str) -> Iterator[Browser]:
    """Closed before the server stops (a connected page keeps Streamlit from exiting on SIGTERM)."""
    with chromium() as launched:
        yield launched


def download(page: Page, label: str, folder: Path) -> Path:
    with page.expect_download() as event:
        page.get_by_role("button", name=label, exact=True).click()
    target = folder / event.value.suggested_filename
    event.value.save_as(target)
    return target


def listed(page: Page, folder: Path, name: str) -> list[dict[str, str]]:
    """The follow-up list as the page offers it for download, once the page shows the list ``name``
    (``follow_up_<day>_<marketplace>``): a rerun may still be on its way after a click."""
    for _ in range(60):
        path = download(page, "Download CSV", folder)
        if path.stem == name:
            with open(path, encoding="utf-8") as handle:
                return list(csv.DictReader(handle))
        page.wait_for_timeout(500)
    raise AssertionError(f"the page never offered {name}.csv (last: {path.name})")


def pick_marketplace(page: Page, marketplace: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
    page.get_by_role("option", name=marketplace, exact=True).click()
    settled(page)


def test_every_board_loads_without_an_error(console_url: str, tmp_path: Path) -> None:
    """The screenshot script visits each board, fails on a Streamlit exception, writes one PNG each."""
    shots = capture(console_url, tmp_path)
    assert [p.name for p in shots] == [file.replace(".py", ".png") for file, _, _ in BOARDS]
    assert all(p.stat().st_size > 20_000 for p in shots)  # a rendered board, not a blank page


def test_marketplace_filter_changes_the_table(browser: Browser, console_url: str, tmp_path: Path) -> None:
    page = settled(open_board(browser, console_url, "customers"))
    assert {r["marketplace"] for r in listed(page, tmp_path, f"follow_up_{TODAY}_all")} == {"UK", "US"}
    pick_marketplace(page, "UK")
    assert {r["marketplace"] for r in listed(page, tmp_path, f"follow_up_{TODAY}_UK")} == {"UK"}
    page.close()


def test_excel_download_has_typed_columns(browser: Browser, console_url: str, tmp_path: Path) -> None:
    page = settled(open_board(browser, console_url, "customers"))
    path = download(page, "Download Excel", tmp_path)
    page.close()
    sheet = openpyxl.load_workbook(path).active
    header = [cell.value for cell in sheet[1]]
    first = dict(zip(header, (cell.value for cell in sheet[2]), strict=True))
    assert path.name.endswith(".xlsx") and sheet.max_row > 100
    assert isinstance(first["customer_key"], str) and isinstance(first["rfm_segment"], str)
    assert isinstance(first["follow_up_priority_score"], float) and isinstance(first["gmv"], float)
    assert isinstance(first["orders"], int) and isinstance(first["days_since_last_order"], int)
    assert isinstance(first["last_order_ds"], datetime) and isinstance(first["is_churn_warning"], bool)


def test_contacted_mark_survives_a_reload_and_leaves_tomorrow(
    browser: Browser, console_url: str, world: Settings, tmp_path: Path
) -> None:
    page = settled(open_board(browser, console_url, "customers"))
    pick_marketplace(page, "US")
    before = listed(page, tmp_path, f"follow_up_{TODAY}_US")
    target = next(r for r in before if r["contacted"] == "False")["customer_key"]
    choose = page.locator('[data-testid="stForm"] [data-testid="stMultiSelect"] input')
    choose.click()
    choose.fill(target)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Save contacted marks").click()
    settled(page)

    page.reload()
    settled(page)
    pick_marketplace(page, "US")
    today = {r["customer_key"]: r for r in listed(page, tmp_path, f"follow_up_{TODAY}_US")}
    assert today[target]["contacted"] == "True"  # still on today's list, marked

    page.get_by_role("spinbutton", name="day, List day").click()
    page.keyboard.type(f"{TOMORROW.day:02d}")
    page.keyboard.press("Tab")
    settled(page)
    tomorrow = {r["customer_key"] for r in listed(page, tmp_path, f"follow_up_{TOMORROW}_US")}
    assert target not in tomorrow
    assert {r["customer_key"] for r in before if r["contacted"] == "False"} - {target} <= tomorrow
    page.close()
    with connect(world) as conn:
        who = conn.execute(
            "select recorded_by, list_ds from console.contact_marks where customer_key = %s", (target,)
        ).fetchall()
    assert who == [("mercator_console", TODAY)]
