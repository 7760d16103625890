"""Start-up removes what killed Spark runs left (their scratch folders, uncommitted lake staging), and
nothing a live application still uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ops.settings import Settings
from spark_jobs.leftovers import remove_leftovers, scratch_dir
from storage.lake import Lake, local_path


def _dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "block").write_bytes(b"x")
    return path


def test_dead_runs_are_removed_and_live_ones_kept(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", lake_uri_override=(tmp_path / "lake").as_uri())
    dwd = local_path(Lake(settings.lake_uri).root_uri) / "dwd"
    running = subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)
    dead = _folder(scratch_dir(settings, _dead_pid()))
    live = _folder(scratch_dir(settings, running.pid))
    mine = _folder(scratch_dir(settings))
    staging = _folder(dwd / "order_item" / ".spark-staging-0b1c")
    temporary = _folder(dwd / "orders" / "_temporary")
    data = _folder(dwd / "order_item" / "ds=2025-11-01")

    assert remove_leftovers(settings) == [dead]  # another application lives: its staging may be in use
    assert staging.exists() and temporary.exists() and live.exists() and mine.exists()

    running.kill()
    running.wait()
    assert sorted(remove_leftovers(settings)) == sorted([live, staging, temporary])
    assert mine.exists() and data.exists() and not staging.exists()
