"""Databases, schemas and roles the design names (DESIGN.md §6); safe to run any number of times."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from psycopg import sql

from ops.settings import Settings
from storage.console_schema import OPERATOR_ROLE, ensure_console_schema
from storage.reference.fx import load_reference_rates
from storage.secrets import role_password, scram_verifier
from storage.warehouse import libpq_url

log = logging.getLogger(__name__)

SCHEMAS = ("dwd", "dws", "ads", "ops", "ml")
ANALYST_SCHEMAS = ("dws", "ads")
OWNER_ROLE = "mercator_owner"
ANALYST_ROLE = "analyst"

OPS_DDL = """
create table if not exists ops.run_log (
    run_id      bigserial primary key,
    step        text        not null,
    entity      text        not null,
    ds          date        not null,
    rows_in     bigint,
    rows_out    bigint,
    rows_rejected bigint,
    details     jsonb       not null default '{}'::jsonb,
    logged_at   timestamptz not null default now()
);
create index if not exists run_log_step_ds_idx on ops.run_log (step, entity, ds);
"""


def ensure_databases(settings: Settings, names: tuple[str, ...]) -> None:
    """Create the embedded stack's databases (warehouse, MLflow, Airflow) when missing."""
    admin_url = settings.embedded_url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("select datname from pg_database")}
        for name in names:
            if name not in existing:
                log.info("creating database %s", name)
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def _passfile(conn: psycopg.Connection) -> Path | None:
    """The pgpass file this connection authenticated with (the embedded stack's), if any."""
    options = {option.keyword: option.val for option in conn.pgconn.info}
    return Path(options[b"passfile"].decode()) if options.get(b"passfile") else None


def _ensure_role(conn: psycopg.Connection, role: str, *, login: bool) -> None:
    """Create ``role``; a login role gets its password from the connection's pgpass file (generated on
    first use, sent as a SCRAM verifier). Without one (a production server) the DBA manages passwords."""
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    if not exists:
        conn.execute(
            sql.SQL("create role {} " + ("login" if login else "nologin")).format(sql.Identifier(role))
        )
    passfile = _passfile(conn)
    if login and passfile is not None:
        verifier = scram_verifier(role_password(passfile, role))
        conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(verifier)))


def ensure_warehouse(warehouse_url: str) -> None:
    """Schemas, the owner and analyst roles, grants and the ops tables in the warehouse database."""
    with psycopg.connect(libpq_url(warehouse_url), autocommit=True) as conn:
        _ensure_role(conn, OWNER_ROLE, login=False)
        _ensure_role(conn, ANALYST_ROLE, login=True)
        me = conn.execute("select current_user").fetchone()[0]
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(OWNER_ROLE), sql.Identifier(me)))
        for schema in SCHEMAS:
            conn.execute(
                sql.SQL("create schema if not exists {} authorization {}").format(
                    sql.Identifier(schema), sql.Identifier(OWNER_ROLE)
                )
            )
            conn.execute(
                sql.SQL("grant all on schema {} to {}").format(sql.Identifier(schema), sql.Identifier(me))
            )
        conn.execute(sql.SQL("revoke all on schema public from {}").format(sql.Identifier(ANALYST_ROLE)))
        for schema in ANALYST_SCHEMAS:
            ident = sql.Identifier(schema)
            analyst = sql.Identifier(ANALYST_ROLE)
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(ident, analyst))
            conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(ident, analyst))
            conn.execute(
                sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                    ident, analyst
                )
            )
        conn.execute(OPS_DDL)
        _ensure_role(conn, OPERATOR_ROLE, login=True)  # the console's write role, its password as any role's
        ensure_console_schema(conn)  # the operator console's tables and the write role's grants
        load_reference_rates(conn)  # dwd.fx_rate: the DWD jobs convert to the reporting currency with it
    log.info("warehouse schemas %s and roles %s/%s ready", SCHEMAS, OWNER_ROLE, ANALYST_ROLE)
