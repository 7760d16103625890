"""Generated Postgres role passwords, kept in a libpq password file only the stack's user can read.

The file is libpq's own ``pgpass`` format, so connection URLs carry ``?passfile=<path>`` and never the
password itself: URLs stay safe to log, and psycopg, SQLAlchemy (MLflow, Airflow) and dbt's psycopg2
all read it through libpq. Any role name gets a password on first request, so a new login role
(such as the console's operator) needs nothing but its name.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ops.settings import ensure_private_dir

SCRAM_ITERATIONS = 4096


def _parse(line: str) -> tuple[str, str] | None:
    fields = line.rstrip("\n").split(":")
    if len(fields) != 5 or line.startswith("#"):
        return None
    return fields[3], fields[4]


def read_passwords(passfile: Path) -> dict[str, str]:
    """Role → password from ``passfile`` (empty when the file does not exist yet)."""
    try:
        lines = passfile.read_text().splitlines()
    except FileNotFoundError:
        return {}
    return dict(entry for entry in map(_parse, lines) if entry)


def role_password(passfile: Path, role: str) -> str:
    """The password of ``role``, generated and appended on first request (file 0600, folder 0700)."""
    known = read_passwords(passfile)
    if role in known:
        return known[role]
    ensure_private_dir(passfile.parent)
    lock_fd = os.open(passfile.with_name(f".{passfile.name}.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(lock_fd, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two processes adding roles must not lose one
        known = read_passwords(passfile)
        if role not in known:
            known[role] = secrets.token_urlsafe(24)  # url-safe: no ':' or '\\' to escape for libpq
            draft = passfile.with_name(f".{passfile.name}.draft")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.writelines(f"*:*:*:{name}:{password}\n" for name, password in sorted(known.items()))
            draft.replace(passfile)
    return known[role]


def scram_verifier(password: str, *, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier Postgres stores (RFC 7677), computed here so the server never sees
    the password itself, not even in a statement its log could keep."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
