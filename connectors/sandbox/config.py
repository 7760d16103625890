"""Typed configuration of the sandbox marketplace: what it serves and which faults it injects."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FaultConfig:
    """Fault switches; every decision is seeded, so a run with the same requests sees the same faults.

    ``error_5xx_rate``/``throttle_429_rate`` apply per request (a retry may succeed); ``malformed_rate`` and
    ``duplicate_rate`` apply per served record (the same record is malformed on every fetch, as in real data).
    """

    error_5xx_rate: float = 0.0
    throttle_429_rate: float = 0.0
    malformed_rate: float = 0.0
    duplicate_rate: float = 0.0
    # Well-formed records whose first item price is negative: valid JSON the connector must keep, but a
    # business-rule violation the DWD quality gate has to catch.
    negative_price_rate: float = 0.0
    latency_ms: float = 0.0
    retry_after_seconds: int = 1
    outage_after_requests: int | None = None  # every API request after the first N answers 503
    # Schema drift, as when an API ships a new version: every served record of every endpoint gains
    # ``added_field`` and has each ``renamed_fields`` (old, new) pair renamed.
    added_field: str | None = None
    renamed_fields: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for name in (
            "error_5xx_rate",
            "throttle_429_rate",
            "malformed_rate",
            "duplicate_rate",
            "negative_price_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        if self.latency_ms < 0 or self.retry_after_seconds < 0:
            raise ValueError("latency_ms and retry_after_seconds must not be negative")


@dataclass(frozen=True)
class SandboxConfig:
    """What the sandbox serves (seed, profile), how fast it lets clients call it, and its faults."""

    seed: int = 42
    profile: str = "small"
    access_token: str | None = field(default=None, repr=False)  # None: any non-empty token is accepted
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 20
    max_page_size: int = 100
    faults: FaultConfig = field(default_factory=FaultConfig)
