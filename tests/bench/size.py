"""The benches' size knob: ``MERCATOR_BENCH_SIZE=smoke`` runs every benchmark once at a tiny size.

``make test`` runs the smoke size, so a broken benchmark fails CI; its figures mean nothing and no timing
is asserted. ``make bench`` runs the full size (the default), whose ``ratio:`` lines are the measurements.
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

SIZES = ("full", "smoke")
SIZE = os.environ.get("MERCATOR_BENCH_SIZE", "full")
if SIZE not in SIZES:
    raise ValueError(f"MERCATOR_BENCH_SIZE must be one of {', '.join(SIZES)}, got {SIZE!r}")
SMOKE = SIZE == "smoke"


def sized(full: T, smoke: T) -> T:
    """``full`` for a measuring run, ``smoke`` for the smoke run."""
    return smoke if SMOKE else full
