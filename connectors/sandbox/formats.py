"""Wire formats and the demand calendar shared by every generator (kept free of generator imports).

``orders`` and ``asin_metrics`` both need these, and orders now draw their ASINs from the ASIN demand
model, so they live here to keep the import graph acyclic.
"""

from __future__ import annotations

import time
from datetime import date

Q4_PEAK_FACTOR = 1.5


def iso_z(epoch_seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def season_factor(day: date) -> float:
    """Calendar effect on demand: the Q4 peak (November and December) sells 1.5x."""
    return Q4_PEAK_FACTOR if day.month in (11, 12) else 1.0
