"""Connections to the warehouse (Postgres), from settings only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

from ops.settings import Settings


def libpq_url(url: str) -> str:
    """Strip a SQLAlchemy driver suffix (``postgresql+psycopg://``) so libpq accepts the URL."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def redact(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    parts = urlsplit(libpq_url(url))
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@contextmanager
def connect(settings: Settings, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A psycopg connection to the warehouse; commits on success, rolls back on error."""
    with psycopg.connect(libpq_url(settings.warehouse_url), autocommit=autocommit) as conn:
        yield conn
