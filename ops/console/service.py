"""How the console is started: one command line, shared by ``make console`` and the local stack."""

from __future__ import annotations

import sys
from pathlib import Path

from ops.processes import Service
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
        settings.bind_host,
        "--server.port",
        str(settings.console_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    )


def console_service(settings: Settings) -> Service:
    """The console as one more service of the local stack (``make up``), beside the MLflow and Airflow UIs."""
    return Service(
        name="console",
        command=streamlit_command(settings),
        port=settings.console_port,
        run_dir=settings.home / "run",
        log_dir=settings.logs_dir,
    )
