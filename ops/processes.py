"""Background services of the local stack: start once, find by pid file, stop cleanly."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from storage.host import pid_alive, port_open

log = logging.getLogger(__name__)


class ServiceError(RuntimeError):
    """A service could not be started; the message says why and what to do."""


@dataclass(frozen=True)
class Service:
    """One long-running local process (sandbox API, MLflow UI, Airflow UI)."""

    name: str
    command: tuple[str, ...]
    port: int
    run_dir: Path
    log_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def running_pid(service: Service) -> int | None:
    """The live pid from the pid file; a stale file (dead pid) is removed."""
    if not service.pid_file.exists():
        return None
    try:
        pid = int(service.pid_file.read_text().strip())
    except ValueError:
        pid = -1
    if pid > 0 and pid_alive(pid):
        return pid
    log.warning("%s: removing stale pid file %s", service.name, service.pid_file)
    service.pid_file.unlink(missing_ok=True)
    return None


def start(
    service: Service,
    env: Mapping[str, str],
    *,
    ready: Callable[[], bool] | None = None,
    timeout_s: float = 120.0,
    stdin_secret: str | None = None,
) -> int:
    """Start ``service`` unless it already runs; a port held by a stranger is a clear error.

    ``stdin_secret`` is written to the service's stdin: a secret it needs reaches it neither through
    its environment nor its command line (both readable in /proc).
    """
    pid = running_pid(service)
    if pid is not None:
        log.info("%s already running (pid %s) at %s", service.name, pid, service.url)
        return pid
    if port_open(service.port):
        raise ServiceError(
            f"{service.name}: port {service.port} on 127.0.0.1 is in use by another process; "
            f"free it or choose another port in settings"
        )
    service.run_dir.mkdir(parents=True, exist_ok=True)
    service.log_dir.mkdir(parents=True, exist_ok=True)
    with open(service.log_file, "ab") as log_handle:
        process = subprocess.Popen(
            list(service.command),
            env=dict(env),
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL if stdin_secret is None else subprocess.PIPE,
            start_new_session=True,
        )
    if process.stdin is not None:
        with process.stdin:
            process.stdin.write(f"{stdin_secret}\n".encode())
    service.pid_file.write_text(str(process.pid))
    check = ready or (lambda: port_open(service.port))
    deadline = time.monotonic() + timeout_s
    while not check():
        if process.poll() is not None:
            service.pid_file.unlink(missing_ok=True)
            raise ServiceError(f"{service.name} exited with {process.returncode}; see {service.log_file}")
        if time.monotonic() > deadline:
            stop(service)
            raise ServiceError(
                f"{service.name} did not become ready in {timeout_s:.0f}s; see {service.log_file}"
            )
        time.sleep(0.3)
    log.info("%s started (pid %s) at %s", service.name, process.pid, service.url)
    return process.pid


def stop(service: Service, timeout_s: float = 20.0) -> bool:
    """Stop the service's whole process group; returns whether something was running."""
    pid = running_pid(service)
    if pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        os.killpg(pid, signal.SIGKILL)
    service.pid_file.unlink(missing_ok=True)
    return True
