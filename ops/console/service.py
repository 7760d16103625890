"""How the console is started: one command line, shared by ``make console`` and the local stack."""

from __future__ import annotations

import sys
from pathlib import Path

from ops.settings import Settings

APP = Path(__file__).parent / "app.py"


def streamlit_command(settings: Settings) -> tuple[str, ...]:
    """``streamlit run`` bound to the console's host and port, headless, no usage statistics."""
    return (
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        settings.console_host,
        "--server.port",
        str(settings.console_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    )
