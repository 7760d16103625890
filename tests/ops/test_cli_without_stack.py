"""With the stack down, commands that need the warehouse say so in one line instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import free_port


@pytest.mark.parametrize(
    "command", [["summary"], ["docs"], ["backfill", "--start", "2025-11-01", "--end", "2025-11-01"]]
)
def test_a_command_needing_the_warehouse_names_it_and_how_to_start_it(command: list[str], tmp_path) -> None:
    port = free_port()  # nothing listens there
    env = {
        **os.environ,
        "MERCATOR_HOME": str(tmp_path),
        "WAREHOUSE_URL": f"postgresql://u:s3cret@127.0.0.1:{port}/db",
    }
    done = subprocess.run(
        [sys.executable, "-m", "ops", *command], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        f"mercator {command[0]}: the warehouse at postgresql://u@127.0.0.1:{port}/db is not reachable; "
        "start the stack with `make up` (or `mercator up`), or set WAREHOUSE_URL"
    )
    assert "Traceback" not in done.stderr and "s3cret" not in done.stderr
