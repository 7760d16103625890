"""Reporting-currency conversion with the dated rate table ``dwd.fx_rate`` (as-of semantics).

The rate of a currency on a day is the latest rate dated on or before that day, and no older than
``fx_max_rate_age_days``: a monthly table dated the 1st covers its month, and a day past the table's end
gets no rate at all instead of a silently stale one. Pairs are crossed through USD (the table stores
units per USD), and ``fx_rate`` is ``units_per_usd(reporting) / units_per_usd(currency)`` to 10 places.

The rate lookups are resolved in the driver (the table is a few hundred rows) for exactly the
(currency, day) pairs a run publishes, then joined to the rows as a broadcast: no shuffle, no range
join, and a pair without a rate is known before anything is written.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, DecimalType, StringType, StructField, StructType

from ops.settings import Settings
from storage.reference.fx import FxRate, read_warehouse_rates
from storage.warehouse import connect

USD = "USD"
FX_RATE_TYPE = DecimalType(20, 10)
REPORTING_AMOUNT_TYPE = DecimalType(18, 2)  # room for a 14,2 amount times a large rate (USD → JPY)
FX_PLACES = Decimal("1E-10")

# Appended to the DWD order_item contract, in the order of storage/sql/dwd_order_item.sql.
REPORTING_FIELDS = (
    StructField("reporting_currency", StringType(), nullable=False),
    StructField("fx_rate", FX_RATE_TYPE, nullable=False),
    StructField("unit_price_reporting", REPORTING_AMOUNT_TYPE, nullable=False),
    StructField("item_amount_reporting", REPORTING_AMOUNT_TYPE, nullable=False),
)
_PAIR_SCHEMA = StructType(
    [
        StructField("_fx_currency", StringType(), nullable=False),
        StructField("_fx_day", DateType(), nullable=False),
        StructField("_fx_rate", FX_RATE_TYPE, nullable=False),
    ]
)


class MissingFxRateError(LookupError):
    """Rows would publish without a reporting amount; names source, ODS partition and order."""


@dataclass(frozen=True)
class FxTable:
    """Dated rates per currency with as-of lookups; built once per run in the driver."""

    rates: Mapping[str, tuple[FxRate, ...]]  # per currency, sorted by rate_date
    max_age_days: int

    @classmethod
    def of(cls, rates: Iterable[FxRate], max_age_days: int) -> FxTable:
        by_currency: dict[str, list[FxRate]] = {}
        for rate in rates:
            by_currency.setdefault(rate.currency, []).append(rate)
        return cls(
            {c: tuple(sorted(rs, key=lambda r: r.rate_date)) for c, rs in by_currency.items()}, max_age_days
        )

    def units_per_usd(self, currency: str, day: date) -> Decimal | None:
        """The latest rate on or before ``day`` (USD is 1), or None when there is none fresh enough."""
        if currency == USD:
            return Decimal(1)
        history = self.rates.get(currency, ())
        at = bisect.bisect_right([r.rate_date for r in history], day)
        if at == 0:
            return None
        rate = history[at - 1]
        return rate.units_per_usd if (day - rate.rate_date).days <= self.max_age_days else None

    def fx_rate(self, currency: str, reporting: str, day: date) -> Decimal | None:
        """Units of ``reporting`` per unit of ``currency`` on ``day`` (1 for the same currency)."""
        if currency == reporting:
            return Decimal(1)
        source, target = self.units_per_usd(currency, day), self.units_per_usd(reporting, day)
        if source is None or target is None:
            return None
        return (target / source).quantize(FX_PLACES, rounding=ROUND_HALF_EVEN)


def warehouse_fx_table(settings: Settings) -> FxTable:
    """The rate table as the warehouse holds it (loaded by ``storage.bootstrap.ensure_warehouse``)."""
    with connect(settings) as conn:
        rates = read_warehouse_rates(conn)
    if not rates:
        raise MissingFxRateError(
            "dwd.fx_rate is empty: run `mercator up` (storage.bootstrap.ensure_warehouse) to load the "
            "reference rates, or load a rate feed into it"
        )
    return FxTable.of(rates, settings.fx_max_rate_age_days)


def resolve_pairs(
    fx: FxTable, reporting: str, pairs: Iterable[tuple[str, date]]
) -> tuple[dict[tuple[str, date], Decimal], list[tuple[str, date]]]:
    """(rate per (currency, day), the pairs without a rate, sorted)."""
    found: dict[tuple[str, date], Decimal] = {}
    missing: list[tuple[str, date]] = []
    for pair in sorted(set(pairs)):
        rate = fx.fx_rate(pair[0], reporting, pair[1])
        if rate is None:
            missing.append(pair)
        else:
            found[pair] = rate
    return found, missing


def with_reporting_amounts(
    spark: SparkSession,
    rows: DataFrame,
    rates: Mapping[tuple[str, date], Decimal],
    reporting: str,
    *,
    currency: str = "currency",
    day: str = "ds",
) -> DataFrame:
    """``rows`` plus the reporting columns, joined on (currency, day) against the resolved rates.

    Amounts are rounded half-up to the cent from the exact product. Callers resolve every pair first
    (:func:`resolve_pairs`); a pair without a rate would leave the new columns null.
    """
    pairs = spark.createDataFrame([(c, d, r) for (c, d), r in sorted(rates.items())], schema=_PAIR_SCHEMA)
    joined = rows.join(
        F.broadcast(pairs),
        (F.col(currency) == F.col("_fx_currency")) & (F.col(day) == F.col("_fx_day")),
        "left",
    )

    def convert(amount: str) -> Column:
        return F.round(F.col(amount) * F.col("_fx_rate"), 2).cast(REPORTING_AMOUNT_TYPE)

    return joined.select(
        *[F.col(name) for name in rows.columns],
        F.lit(reporting).alias("reporting_currency"),
        F.col("_fx_rate").alias("fx_rate"),
        convert("unit_price").alias("unit_price_reporting"),
        convert("item_amount").alias("item_amount_reporting"),
    )
