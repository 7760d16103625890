"""What a local attacker can see of running processes: their trees, listeners, environments."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path


def descendants(roots: Iterable[int | None]) -> set[int]:
    """``roots`` and every live process below them (uvicorn and gunicorn workers, Postgres backends)."""
    parent_of: dict[int, int] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            parent_of[int(stat_file.parent.name)] = int(stat_file.read_text().rsplit(")", 1)[1].split()[1])
    found = {pid for pid in roots if pid}
    while grown := {pid for pid, parent in parent_of.items() if parent in found} - found:
        found |= grown
    return found


def listeners() -> list[tuple[str, int]]:
    """(local address, pid) of every listening TCP socket on the machine (``ss -ltnp``)."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return [
        (line.split()[3], int(pid)) for line in out.splitlines() for pid in re.findall(r"pid=(\d+)", line)
    ]


def exposed_text(pid: int) -> bytes:
    """The environment and command line of ``pid``: what /proc shows (empty once it has exited)."""
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        return Path(f"/proc/{pid}/environ").read_bytes() + Path(f"/proc/{pid}/cmdline").read_bytes()
    return b""
