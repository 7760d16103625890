"""Run the daily DAG for one business day through ``airflow dags test`` (no scheduler needed)."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from ops.environment import child_env
from ops.settings import Settings

log = logging.getLogger(__name__)

DAG_ID = "mercator_daily"
_FINISHED = re.compile(r"DagRun Finished: dag_id=(\S+?), .*?state=(\w+)")


class DagRunFailed(RuntimeError):
    """The DAG run did not succeed; the message points at its log."""


def next_attempt_log(logs_dir: Path, stem: str) -> Path:
    """A new ``<stem>-attempt-<n>.log`` (n = 1, 2, …): a rerun of a day never overwrites an earlier log.

    The file is created exclusively, so two runs started at once still get a file each.
    """
    logs_dir.mkdir(parents=True, exist_ok=True)
    attempt = len(list(logs_dir.glob(f"{stem}-attempt-*.log")))
    while True:
        attempt += 1
        candidate = logs_dir / f"{stem}-attempt-{attempt}.log"
        try:
            candidate.touch(exist_ok=False)
        except FileExistsError:
            continue
        return candidate


def run_day(settings: Settings, ds: date, dag_id: str = DAG_ID) -> Path:
    """Run ``dag_id`` for business day ``ds``; raises DagRunFailed unless the run succeeded.

    The DAG's timetable gives a manual run at ``ds + 1`` the interval [ds, ds + 1). Each attempt logs
    to a file of its own (:func:`next_attempt_log`).
    """
    log_file = next_attempt_log(settings.logs_dir, f"{dag_id}-{ds.isoformat()}")
    logical_date = (ds + timedelta(days=1)).isoformat()
    airflow = str(Path(sys.executable).parent / "airflow")
    started = time.monotonic()
    with open(log_file, "a") as handle:
        result = subprocess.run(
            [airflow, "dags", "test", dag_id, logical_date],
            env=child_env(settings),
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    states = [m.group(2) for m in _FINISHED.finditer(log_file.read_text(errors="replace"))]
    elapsed = time.monotonic() - started
    if result.returncode != 0 or not states or states[-1] != "success":
        state = states[-1] if states else "unknown"
        raise DagRunFailed(f"{dag_id} for ds={ds} ended {state} (exit {result.returncode}); log: {log_file}")
    log.info("%s for ds=%s succeeded in %.0fs; log: %s", dag_id, ds, elapsed, log_file)
    return log_file
