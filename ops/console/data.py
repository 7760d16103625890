"""How the console reaches the warehouse: reads as ``analyst``, writes as ``mercator_console``.

Every query returns a DataFrame with numbers as floats and dates as dates, ready for a chart, a table
and an Excel cell alike. A relation that does not exist yet reads as ``None`` so a page can say why it
is empty instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pandas as pd
import psycopg
import yaml
from pydantic import SecretStr

from ops.settings import Settings
from storage.console_schema import OPERATOR_ROLE, READER_ROLE
from storage.warehouse import libpq_url


def role_url(warehouse_url: str, role: str, password: SecretStr | None) -> str:
    """The warehouse URL with its login replaced by ``role`` (and its password, when one is set)."""
    parts = urlsplit(libpq_url(warehouse_url))
    login = quote(role, safe="")
    if password is not None:
        login += ":" + quote(password.get_secret_value(), safe="")
    host = parts.hostname or ""
    netloc = f"{login}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@contextmanager
def reader(settings: Settings) -> Iterator[psycopg.Connection]:
    """A read-only session as the analyst role (the console reads nothing else)."""
    url = role_url(settings.warehouse_url, READER_ROLE, settings.console_reader_password)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set default_transaction_read_only = on")
        conn.execute("set timezone = 'UTC'")
        yield conn


@contextmanager
def operator(settings: Settings) -> Iterator[psycopg.Connection]:
    """A session as the console's write role; commits on success."""
    url = role_url(settings.warehouse_url, OPERATOR_ROLE, settings.console_operator_password)
    with psycopg.connect(url) as conn:
        yield conn


def exists(conn: psycopg.Connection, relation: str) -> bool:
    """Whether ``schema.table`` exists and the role may read it."""
    row = conn.execute(
        "select case when to_regclass(%s) is null then false else has_table_privilege(%s, 'select') end",
        (relation, relation),
    ).fetchone()
    return bool(row[0])


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def frame(conn: psycopg.Connection, query: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Rows of ``query`` as a DataFrame; NUMERIC becomes float, timestamps stay tz-aware UTC."""
    with conn.cursor() as cur:
        cur.execute(query, params or {})
        columns = [d.name for d in cur.description]
        rows = [tuple(_plain(v) for v in row) for row in cur.fetchall()]
    return pd.DataFrame(rows, columns=columns)


def values(conn: psycopg.Connection, query: str, params: Mapping[str, Any] | None = None) -> list[Any]:
    """The first column of ``query``'s rows (distinct days, marketplaces, … for the filters)."""
    return [row[0] for row in conn.execute(query, params or {}).fetchall()]


@lru_cache(maxsize=1)
def dbt_vars(project_dir: str) -> dict[str, Any]:
    """The rules' thresholds as dbt uses them (``vars`` of dbt_project.yml), shown beside the rows."""
    with open(f"{project_dir}/dbt_project.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["vars"]
