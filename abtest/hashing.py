"""Deterministic, salted hash bucketing: the only place a unit id becomes a number.

``sha256(f"{salt}:{unit_id}")`` is used instead of Python's ``hash()`` because the latter is
randomised per process (PYTHONHASHSEED), so the same customer would land in different variants on
different workers. The first 8 bytes of the digest are reduced modulo the bucket count; the modulo
bias of a 64-bit number over 10,000 buckets is below 1e-15 and irrelevant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

N_BUCKETS = 10_000
"""Traffic is split in buckets of 1/10,000 (0.01%)."""


def check_salt(salt: str) -> str:
    """Salts are non-empty and free of ':' so that ``salt:unit`` strings can never collide."""
    if not isinstance(salt, str) or not salt:
        raise ValueError(f"salt must be a non-empty string, got {salt!r}")
    if ":" in salt:
        raise ValueError(f"salt {salt!r} must not contain ':' (it separates salt and unit id)")
    return salt


def unit_key(unit_id: object) -> str:
    """Unit ids are hashed by their string form, so ``42`` and ``"42"`` are the same unit."""
    if unit_id is None:
        raise ValueError("unit_id must not be None")
    key = str(unit_id)
    if not key:
        raise ValueError("unit_id must not be empty")
    return key


def hash64(unit_id: object, salt: str) -> int:
    """The unsigned 64-bit integer behind a unit's bucket (first 8 bytes of the sha256 digest)."""
    digest = hashlib.sha256(f"{salt}:{unit_key(unit_id)}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def bucket(unit_id: object, salt: str, n_buckets: int = N_BUCKETS) -> int:
    """The unit's bucket in ``[0, n_buckets)`` for this salt; identical on every machine and run."""
    check_salt(salt)
    return hash64(unit_id, salt) % n_buckets


def buckets(unit_ids: Iterable[object], salt: str, n_buckets: int = N_BUCKETS) -> np.ndarray:
    """Buckets of many units at once (under 1 µs per id); same values as :func:`bucket`."""
    prefix = f"{check_salt(salt)}:"
    sha256, from_bytes = hashlib.sha256, int.from_bytes
    return np.fromiter(
        (
            from_bytes(sha256((prefix + unit_key(u)).encode()).digest()[:8], "big") % n_buckets
            for u in unit_ids
        ),
        dtype=np.int64,
    )


def pseudonym(unit_id: object, salt: str = "mercator-log") -> str:
    """A short one-way token for a unit id, for log lines that must not carry the raw id."""
    return hashlib.sha256(f"{salt}:{unit_key(unit_id)}".encode()).hexdigest()[:12]
