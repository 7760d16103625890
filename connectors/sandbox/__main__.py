"""``python -m connectors.sandbox --port 8765 --seed 42``: the sandbox marketplace for the local stack."""

from __future__ import annotations

import argparse
import logging
import sys

from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.profiles import PROFILES
from connectors.sandbox.server import run_sandbox
from ops.settings import get_settings


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m connectors.sandbox", description=__doc__)
    parser.add_argument("--host", default=settings.sandbox_host)
    parser.add_argument("--port", type=int, default=settings.sandbox_port)
    parser.add_argument("--seed", type=int, default=settings.sandbox_seed)
    parser.add_argument("--profile", default=settings.sandbox_profile, choices=sorted(PROFILES))
    parser.add_argument("--rate", type=float, default=settings.orders_requests_per_second, help="requests/s")
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument(
        "--token-stdin",
        action="store_true",
        help="read the access token from stdin's first line (not from the environment, which /proc shows)",
    )
    parser.add_argument("--error-5xx-rate", type=float, default=0.0)
    parser.add_argument("--throttle-429-rate", type=float, default=0.0)
    parser.add_argument("--malformed-rate", type=float, default=0.0)
    parser.add_argument("--duplicate-rate", type=float, default=0.0)
    parser.add_argument("--negative-price-rate", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--add-field", help="schema drift: every record gains this field")
    parser.add_argument(
        "--rename-field", action="append", default=[], metavar="OLD=NEW", help="schema drift (repeatable)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = SandboxConfig(
        seed=args.seed,
        profile=args.profile,
        access_token=(
            sys.stdin.readline().strip() if args.token_stdin else settings.orders_api_token.get_secret_value()
        ),
        rate_limit_per_second=args.rate,
        rate_limit_burst=args.burst,
        faults=FaultConfig(
            error_5xx_rate=args.error_5xx_rate,
            throttle_429_rate=args.throttle_429_rate,
            malformed_rate=args.malformed_rate,
            duplicate_rate=args.duplicate_rate,
            negative_price_rate=args.negative_price_rate,
            latency_ms=args.latency_ms,
            added_field=args.add_field,
            renamed_fields=tuple(tuple(pair.split("=", 1)) for pair in args.rename_field),
        ),
    )
    run_sandbox(config, args.host, args.port)


if __name__ == "__main__":
    main()
