"""Screenshots of every console board in Debian's chromium, for the README.

    python -m ops.console.screenshots --url http://127.0.0.1:8501 --out ops/console/screenshots

Run it against a console showing the demo's warehouse (``make demo``, then ``make console``).
Playwright drives ``/usr/bin/chromium`` (``make install`` installs it); browsers are never downloaded.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from ops.console.navigation import BOARDS

CHROMIUM = "/usr/bin/chromium"
# headless, and nothing that reaches out to the network on its own (it is closed here)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1440, "height": 1600}


class BoardError(RuntimeError):
    """A board rendered a Streamlit exception or never finished loading."""


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            browser.close()


def settled(page: Page, timeout_ms: float = 90_000) -> Page:
    """Wait until the board has printed its title and finished running; raise if it shows an error."""
    page.locator("h1").first.wait_for(timeout=timeout_ms)
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout_ms)
    page.wait_for_timeout(1500)  # Vega charts draw after the script run ends
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise BoardError(f"{page.url}: {errors.first.inner_text()[:500]}")
    return page


def open_board(browser: Browser, base_url: str, path: str) -> Page:
    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
    page.goto(f"{base_url.rstrip('/')}/{path}")
    return page


def capture(base_url: str, out_dir: Path) -> list[Path]:
    """One PNG per board, named after its file (``sps_risk.png``, …)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)  # one page: the app's scripts load once
        for file, _, path in BOARDS:
            page.goto(f"{base_url.rstrip('/')}/{path}")
            target = out_dir / file.replace(".py", ".png")
            settled(page).screenshot(path=str(target), full_page=True)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8501", help="a running console")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "screenshots")
    args = parser.parse_args(argv)
    for path in capture(args.url, args.out):
        print(path)


if __name__ == "__main__":
    main()
