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


def run_day(settings: Settings, ds: date, dag_id: str = DAG_ID) -> Path:
    """Run ``dag_id`` for business day ``ds``; raises DagRunFailed unless the run succeeded.

    The DAG's timetable gives a manual run at ``ds + 1`` the interval [ds, ds + 1).
    """
    log_file = settings.logs_dir / f"{dag_id}-{ds.isoformat()}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    logical_date = (ds + timedelta(days=1)).isoformat()
    airflow = str(Path(sys.executable).parent / "airflow")
    started = time.monotonic()
    with open(log_file, "w") as handle:
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
