"""A token bucket shared by the HTTP client (to pace itself) and the sandbox (to enforce limits).

One small class for both sides keeps the arithmetic identical, so a client honouring the advertised
rate is never throttled by a server enforcing it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` stored; thread-safe."""

    def __init__(
        self, rate: float, capacity: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"token bucket needs rate > 0 and capacity >= 1, got {rate=} {capacity=}")
        self._rate = float(rate)
        self._capacity = float(capacity)
        self._clock = clock
        self._tokens = float(capacity)
        self._updated = clock()
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self._rate

    def _refill(self, now: float) -> None:
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    def set_rate(self, rate: float) -> None:
        """Change the rate from now on (tokens accrued so far keep the old rate)."""
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        with self._lock:
            self._refill(self._clock())
            self._rate = float(rate)

    def try_acquire(self) -> float:
        """Take a token if one is available and return 0, else return the seconds until one will be."""
        with self._lock:
            self._refill(self._clock())
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self._rate

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Block until a token is taken; returns the seconds spent waiting."""
        waited = 0.0
        while (wait := self.try_acquire()) > 0:
            sleep(wait)
            waited += wait
        return waited
