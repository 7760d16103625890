"""A rerun of a day logs to a new file: every attempt's log is kept."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ops.airflow_runs import next_attempt_log


def test_every_attempt_gets_a_log_file_of_its_own(tmp_path: Path):
    logs = tmp_path / "logs"
    first = next_attempt_log(logs, "mercator_daily-2025-11-01")
    first.write_text("attempt 1 failed at the ODS gate\n")
    second = next_attempt_log(logs, "mercator_daily-2025-11-01")
    other_day = next_attempt_log(logs, "mercator_daily-2025-11-02")

    assert (first.name, second.name, other_day.name) == (
        "mercator_daily-2025-11-01-attempt-1.log",
        "mercator_daily-2025-11-01-attempt-2.log",
        "mercator_daily-2025-11-02-attempt-1.log",
    )
    assert first.read_text() == "attempt 1 failed at the ODS gate\n"

    with ThreadPoolExecutor(4) as pool:  # runs started at once still get a file each
        names = set(pool.map(lambda _: next_attempt_log(logs, "mercator_daily-2025-11-03").name, range(8)))
    assert len(names) == 8
