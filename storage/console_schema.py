"""The operator console's own tables and the one role that may write them (DESIGN.md §6).

The console reads the marts as ``analyst``. Its writes (a customer marked as contacted, an appeal's
status) go through ``mercator_console``, which may INSERT into these two tables and do nothing else:
no SELECT, UPDATE or DELETE anywhere, no access to ``dwd``/``dws``/``ads``/``ops``/``ml``. Both tables
are append-only logs: a new status is a new row, so no write overwrites another. Who and when are
filled by the database (``current_user``, ``now()``); the role may not set those columns itself, so
every row records the login that wrote it and the time, whatever the client sends.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from pydantic import SecretStr

CONSOLE_SCHEMA = "console"
OPERATOR_ROLE = "mercator_console"
READER_ROLE = "analyst"
APPEAL_STATUSES = ("submitted", "won", "lost")

DDL = f"""
create table if not exists console.contact_marks (
    mark_id       bigint generated always as identity primary key,
    customer_key  text        not null,
    marketplace   text        not null,
    list_ds       date        not null,
    operator_name text        not null check (operator_name <> ''),
    note          text,
    recorded_by   text        not null default current_user,
    recorded_at   timestamptz not null default now()
);
create index if not exists contact_marks_customer_idx
    on console.contact_marks (marketplace, customer_key, list_ds);
comment on table console.contact_marks is
    'A customer marked as contacted on the follow-up list of list_ds; the list skips them for the cooldown.';

create table if not exists console.appeal_status (
    status_id     bigint generated always as identity primary key,
    appeal_id     text        not null,
    status        text        not null check (status in {APPEAL_STATUSES!r}),
    payload       jsonb       not null,
    operator_name text        not null check (operator_name <> ''),
    recorded_by   text        not null default current_user,
    recorded_at   timestamptz not null default now()
);
create index if not exists appeal_status_appeal_idx on console.appeal_status (appeal_id, recorded_at);
comment on table console.appeal_status is
    'Each status an operator gave an appeal (submitted / won / lost); the latest row is its status.';
"""

# The columns the operator role may write; recorded_by / recorded_at always take their defaults.
WRITABLE_COLUMNS = {
    "contact_marks": ("customer_key", "marketplace", "list_ds", "operator_name", "note"),
    "appeal_status": ("appeal_id", "status", "payload", "operator_name"),
}


def ensure_console_schema(conn: psycopg.Connection, operator_password: SecretStr | None = None) -> None:
    """Schema, tables and grants of the console; the operator logs in with ``operator_password``."""
    operator, reader = sql.Identifier(OPERATOR_ROLE), sql.Identifier(READER_ROLE)
    if not conn.execute("select 1 from pg_roles where rolname = %s", (OPERATOR_ROLE,)).fetchone():
        conn.execute(sql.SQL("create role {} login").format(operator))
    if operator_password is not None:
        conn.execute(
            sql.SQL("alter role {} password {}").format(
                operator, sql.Literal(operator_password.get_secret_value())
            )
        )
    conn.execute(sql.SQL("revoke all on schema public from {}").format(operator))
    conn.execute("create schema if not exists console authorization mercator_owner")
    conn.execute(DDL)
    conn.execute(sql.SQL("grant usage on schema console to {}, {}").format(operator, reader))
    for table, columns in WRITABLE_COLUMNS.items():
        relation = sql.Identifier(CONSOLE_SCHEMA, table)
        conn.execute(sql.SQL("revoke all on {} from {}").format(relation, operator))
        conn.execute(
            sql.SQL("grant insert ({}) on {} to {}").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), relation, operator
            )
        )
        conn.execute(sql.SQL("grant select on {} to {}").format(relation, reader))
