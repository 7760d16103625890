"""The dated exchange-rate table: the versioned reference file and its warehouse copy ``dwd.fx_rate``.

Rates are kept as *units of a currency per USD*, one row per (currency, first day valid); any pair is
converted through USD. The warehouse copy is what jobs read, so a real feed can replace the approximate
reference rows (see ``storage/reference/README.md``) without a code change.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

REFERENCE_FILE = Path(__file__).resolve().parent / "fx_rates.csv"
LOADED_FROM = "storage/reference/fx_rates.csv"

FX_RATE_DDL = """
create table if not exists dwd.fx_rate (
    currency      char(3)        not null,
    rate_date     date           not null,
    units_per_usd numeric(20, 8) not null check (units_per_usd > 0),
    basis         text           not null,
    loaded_from   text           not null,
    loaded_at     timestamptz    not null default now(),
    primary key (currency, rate_date)
);
comment on table dwd.fx_rate is
    'Units of currency per USD from rate_date on (latest rate on or before a day applies).';
"""

# Refresh only the rows this file owns: a feed's rows (another loaded_from) are never overwritten.
_UPSERT = """
insert into dwd.fx_rate (currency, rate_date, units_per_usd, basis, loaded_from)
values (%s, %s, %s, %s, %s)
on conflict (currency, rate_date) do update
    set units_per_usd = excluded.units_per_usd, basis = excluded.basis, loaded_at = now()
    where dwd.fx_rate.loaded_from = excluded.loaded_from
      and (dwd.fx_rate.units_per_usd, dwd.fx_rate.basis)
          is distinct from (excluded.units_per_usd, excluded.basis)
"""


class FxReferenceError(ValueError):
    """The reference file is malformed; names the file and line."""


@dataclass(frozen=True)
class FxRate:
    """One dated rate: ``units_per_usd`` units of ``currency`` buy 1 USD from ``rate_date`` on."""

    currency: str
    rate_date: date
    units_per_usd: Decimal
    basis: str = "unknown"


def _parse_row(row: dict[str, str], where: str) -> FxRate:
    try:
        rate = FxRate(
            currency=row["currency"].strip(),
            rate_date=date.fromisoformat(row["rate_date"].strip()),
            units_per_usd=Decimal(row["units_per_usd"].strip()),
            basis=row["basis"].strip(),
        )
    except (KeyError, ValueError, ArithmeticError, AttributeError) as exc:
        raise FxReferenceError(f"{where}: unreadable rate row {row!r}: {exc}") from exc
    if len(rate.currency) != 3 or not rate.currency.isupper() or not rate.units_per_usd > 0:
        raise FxReferenceError(f"{where}: currency must be 3 upper-case letters and the rate > 0: {row!r}")
    return rate


def read_reference_file(path: Path = REFERENCE_FILE) -> list[FxRate]:
    """Every rate of the reference CSV; duplicate (currency, date) rows are an error, not a choice."""
    rates: dict[tuple[str, date], FxRate] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            rate = _parse_row(row, f"{path.name}:{line}")
            key = (rate.currency, rate.rate_date)
            if key in rates:
                raise FxReferenceError(f"{path.name}:{line}: duplicate rate for {key[0]} on {key[1]}")
            rates[key] = rate
    return list(rates.values())


def load_reference_rates(conn: psycopg.Connection, path: Path = REFERENCE_FILE) -> int:
    """Create ``dwd.fx_rate`` and upsert the reference file's rows in one transaction; returns rows read."""
    rates = read_reference_file(path)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(FX_RATE_DDL)
        cur.executemany(
            _UPSERT, [(r.currency, r.rate_date, r.units_per_usd, r.basis, LOADED_FROM) for r in rates]
        )
    log.info("dwd.fx_rate: %d reference rates from %s upserted", len(rates), path.name)
    return len(rates)


def read_warehouse_rates(conn: psycopg.Connection) -> list[FxRate]:
    """Every rate in ``dwd.fx_rate`` (a few hundred rows: small enough to hold in the driver)."""
    rows = conn.execute(
        "select currency, rate_date, units_per_usd, basis from dwd.fx_rate order by currency, rate_date"
    ).fetchall()
    return [FxRate(currency.strip(), rate_date, units, basis) for currency, rate_date, units, basis in rows]
