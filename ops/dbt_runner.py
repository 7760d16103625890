"""Run the dbt project in-process (``dbtRunner``) for a business-date window, from settings only.

Why in-process: a DAG task pays dbt's start-up once, gets structured per-node results back (status,
rows affected, timing) instead of parsing logs, and turns any failed model or test into an exception
that names it. The connection comes from ``Settings.warehouse_url`` through environment variables
that ``dbt/profiles.yml`` reads; dbt's target/ and logs/ go under ``settings.home`` so a run never
writes into the repository.

``dbtRunner`` keeps global state (flags, adapters, invocation context) and is not safe to call
concurrently in one process, so invocations are serialised by a lock.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ops.settings import Settings
from storage.warehouse import libpq_url, redact

log = logging.getLogger(__name__)

_INVOKE_LOCK = threading.Lock()
_FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
_DEFAULT_PG_PORT = 5432


class DbtRunError(RuntimeError):
    """A dbt invocation failed; the message names every failed model, test or source and why."""

    def __init__(self, message: str, result: DbtRunResult | None = None) -> None:
        super().__init__(message)
        self.result = result

    @property
    def failed_nodes(self) -> tuple[DbtNodeResult, ...]:
        return self.result.failed if self.result else ()


@dataclass(frozen=True)
class DbtNodeResult:
    """What happened to one node (model, test, unit test, source freshness check)."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    rows_affected: int | None
    execution_time: float
    message: str | None
    failures: int | None

    @property
    def failed(self) -> bool:
        return self.status in _FAILED_STATUSES


@dataclass(frozen=True)
class DbtRunResult:
    """Outcome of one invocation: per-node results plus what the DAG logs (counts, time, warnings)."""

    command: tuple[str, ...]
    success: bool
    nodes: tuple[DbtNodeResult, ...]
    elapsed_seconds: float
    ds_start: date | None = None
    ds_end: date | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        """``dbt build [ds 2025-11-04..2025-11-04]``: what ran, for logs and error messages."""
        return _label(self.command, self.ds_start, self.ds_end)

    @property
    def failed(self) -> tuple[DbtNodeResult, ...]:
        return tuple(node for node in self.nodes if node.failed)

    def node(self, name: str, resource_type: str | None = None) -> DbtNodeResult:
        """The result for a node by name (e.g. ``dws_marketplace_daily``); KeyError when it did not run."""
        for node in self.nodes:
            if node.name == name and (resource_type is None or node.resource_type == resource_type):
                return node
        raise KeyError(f"dbt node {name!r} is not in the results of {self.label}")

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.status] = counts.get(node.status, 0) + 1
        by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no nodes"
        return f"{self.label}: {by_status} in {self.elapsed_seconds:.1f}s"


def dbt_env(settings: Settings) -> dict[str, str]:
    """The MERCATOR_DBT_* variables ``dbt/profiles.yml`` reads, derived from the warehouse URL."""
    parts = urlsplit(libpq_url(settings.warehouse_url))
    query = parse_qs(parts.query)
    env = {
        "MERCATOR_DBT_HOST": parts.hostname or "localhost",
        "MERCATOR_DBT_PORT": str(parts.port or _DEFAULT_PG_PORT),
        "MERCATOR_DBT_USER": unquote(parts.username or ""),
        "MERCATOR_DBT_PASSWORD": unquote(parts.password or ""),
        "MERCATOR_DBT_DBNAME": unquote(parts.path.lstrip("/")) or settings.pg_database,
        "MERCATOR_DBT_SCHEMA": "dws",
    }
    if "sslmode" in query:
        env["MERCATOR_DBT_SSLMODE"] = query["sslmode"][-1]
    if "passfile" in query:  # the embedded stack: libpq (dbt's psycopg2) reads the password from it
        env["PGPASSFILE"] = query["passfile"][-1]
    return env


def run_dbt(
    settings: Settings,
    command: Sequence[str],
    *,
    ds_start: date | None = None,
    ds_end: date | None = None,
    extra_vars: Mapping[str, Any] | None = None,
) -> DbtRunResult:
    """Run one dbt command (e.g. ``["build"]``, ``["source", "freshness"]``) and return per-node results.

    ``ds_start``/``ds_end`` become the vars incremental models use to rebuild only that inclusive
    window; leaving them out rebuilds every day. Raises :class:`DbtRunError` naming each failed node.
    """
    if ds_start and ds_end and ds_start > ds_end:
        raise ValueError(f"ds_start {ds_start} is after ds_end {ds_end}")
    dbt_vars: dict[str, Any] = dict(extra_vars or {})
    if ds_start is not None:
        dbt_vars["ds_start"] = ds_start.isoformat()
    if ds_end is not None:
        dbt_vars["ds_end"] = ds_end.isoformat()

    project_dir = str(settings.dbt_project_dir)
    args = [
        *command,
        "--project-dir",
        project_dir,
        "--profiles-dir",
        project_dir,
        "--target-path",
        str(settings.home / "dbt" / "target"),
        "--log-path",
        str(settings.logs_dir / "dbt"),
    ]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars, sort_keys=True)]

    env = dbt_env(settings)
    secrets = [env["MERCATOR_DBT_PASSWORD"]] if env["MERCATOR_DBT_PASSWORD"] else []
    warnings: list[str] = []

    def collect_warnings(event: Any) -> None:
        if event.info.level == "warn":
            warnings.append(_scrub(f"{event.info.name}: {event.info.msg}", secrets))

    from dbt.cli.main import dbtRunner  # heavy import (~2 s); only tasks that run dbt pay it

    started = time.monotonic()
    with _INVOKE_LOCK, _environment(env):
        log.info("%s on %s", _label(command, ds_start, ds_end), redact(settings.warehouse_url))
        outcome = dbtRunner(callbacks=[collect_warnings]).invoke(args)
    elapsed = time.monotonic() - started

    nodes = tuple(_node_result(res, secrets) for res in getattr(outcome.result, "results", None) or ())
    result = DbtRunResult(
        command=tuple(command),
        success=bool(outcome.success),
        nodes=nodes,
        elapsed_seconds=elapsed,
        ds_start=ds_start,
        ds_end=ds_end,
        warnings=tuple(warnings),
    )
    for node in nodes:
        log.info(
            "dbt %s %s: %s%s in %.2fs",
            node.resource_type,
            node.name,
            node.status,
            f", {node.rows_affected} rows" if node.rows_affected is not None else "",
            node.execution_time,
        )
    for warning in warnings:
        log.warning("dbt warning: %s", warning)

    if outcome.exception is not None:
        message = _scrub(str(outcome.exception), secrets)
        raise DbtRunError(f"{result.label} failed before finishing: {message}", result)
    if result.failed or not result.success:
        raise DbtRunError(_failure_message(result), result)
    log.info("%s", result.summary())
    return result


def build_day_range(
    settings: Settings,
    ds_start: date,
    ds_end: date,
    *,
    check_freshness: bool = False,
    select: Sequence[str] = (),
) -> DbtRunResult:
    """Build (run + test) every model for the inclusive day window; what the daily DAG task calls.

    ``check_freshness`` first runs ``dbt source freshness`` and stops on an error-level stale source.
    Freshness is measured against the wall clock, so only the scheduled run of the latest interval
    should ask for it; backfills and the demo replay historical days and leave it off.
    """
    if check_freshness:
        run_dbt(settings, ["source", "freshness"])
    command = ["build", *(["--select", *select] if select else [])]
    return run_dbt(settings, command, ds_start=ds_start, ds_end=ds_end)


def _label(command: Sequence[str], ds_start: date | None, ds_end: date | None) -> str:
    window = f" [ds {ds_start or '…'}..{ds_end or '…'}]" if ds_start or ds_end else ""
    return f"dbt {' '.join(command)}{window}"


def _node_result(res: Any, secrets: Sequence[str]) -> DbtNodeResult:
    node = res.node
    adapter_response = res.adapter_response or {}
    rows = adapter_response.get("rows_affected")
    resource_type = str(getattr(node, "resource_type", ""))
    return DbtNodeResult(
        unique_id=node.unique_id,
        name=_display_name(node, resource_type),
        resource_type=resource_type,
        status=str(res.status),
        rows_affected=rows if isinstance(rows, int) and rows >= 0 else None,
        execution_time=float(res.execution_time or 0.0),
        message=_scrub(res.message, secrets) if res.message else _freshness_message(res),
        failures=res.failures,
    )


def _freshness_message(res: Any) -> str | None:
    """dbt leaves ``message`` empty for a stale source; say how old the data is and what the limits are."""
    max_loaded_at, age = getattr(res, "max_loaded_at", None), getattr(res, "age", None)
    if max_loaded_at is None or age is None:
        return None
    source = res.node
    thresholds = getattr(source, "freshness", None)
    limits = []
    for label in ("warn", "error"):
        rule = getattr(thresholds, f"{label}_after", None)
        if rule is not None and rule.count is not None:
            limits.append(f"{label} after {rule.count} {rule.period}s")
    return (
        f"newest {source.loaded_at_field or 'row'} is {max_loaded_at:%Y-%m-%d %H:%M} UTC,"
        f" {age / 3600:.1f} hours old ({', '.join(limits) or 'no thresholds'})"
    )


def _display_name(node: Any, resource_type: str) -> str:
    # A source's name alone ("order_item") is ambiguous; "dwd.order_item" is how people refer to it.
    if resource_type == "source":
        return f"{node.source_name}.{node.name}"
    return str(node.name)


def _failure_message(result: DbtRunResult) -> str:
    failed = result.failed
    skipped = sum(1 for node in result.nodes if node.status == "skipped")
    lines = [f"{result.label} failed: {len(failed)} node(s) failed, {skipped} skipped"]
    lines += [f"  {node.resource_type} {node.name} [{node.status}]: {node.message or ''}" for node in failed]
    if not failed:
        lines.append("  no node reported a failure; see the dbt log for the cause")
    return "\n".join(lines)


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "*****")
    return text


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set env vars for one invocation (dbt reads ``os.environ`` at start) and restore them after."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in previous.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
