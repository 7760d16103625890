"""What killed Spark applications leave behind, removed when the next one starts (only our own).

A ``kill -9`` mid-job leaves Spark's scratch folders (``spark.local.dir``: shuffle blocks, broadcast
files) and, in the lake, the ``.spark-staging-*`` / ``_temporary`` folders of a dynamic-partition write
that never committed. Readers skip the dot/underscore names, but nothing else ever removes them.

Each application gets a scratch folder named after its process id (``$MERCATOR_HOME/spark/run-<pid>``),
so a starting application can tell a dead run's folder from a live one's. Lake staging folders carry no
owner, so they are removed only when no other application of this home is alive: a concurrent job's
uncommitted write is never touched.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from ops.settings import Settings
from storage.lake import Lake, local_path

log = logging.getLogger(__name__)

RUN_PREFIX = "run-"
LAKE_STAGING = (".spark-staging-*", "_temporary")


def scratch_root(settings: Settings) -> Path:
    return settings.home / "spark"


def scratch_dir(settings: Settings, pid: int | None = None) -> Path:
    """This application's ``spark.local.dir``."""
    return scratch_root(settings) / f"{RUN_PREFIX}{os.getpid() if pid is None else pid}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, and not ours to judge
        return True
    return True


def _run_pid(folder: Path) -> int | None:
    suffix = folder.name.removeprefix(RUN_PREFIX)
    return int(suffix) if suffix.isdigit() else None


def remove_leftovers(settings: Settings) -> list[Path]:
    """Remove dead applications' scratch folders, and the lake's staging folders if no other lives."""
    removed: list[Path] = []
    others_alive = False
    for folder in sorted(scratch_root(settings).glob(f"{RUN_PREFIX}*")):
        pid = _run_pid(folder)
        if pid is None or pid == os.getpid():
            continue
        if _alive(pid):
            others_alive = True
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    if others_alive:
        log.info("another Spark application of %s is running: lake staging folders left alone", settings.home)
    elif settings.lake_uri.startswith("file:"):
        dwd = local_path(Lake(settings.lake_uri).root_uri) / "dwd"
        for pattern in LAKE_STAGING:
            for folder in sorted(dwd.glob(f"*/{pattern}")):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    if removed:
        log.warning("removed %d leftovers of killed Spark runs: %s", len(removed), [str(p) for p in removed])
    return removed
