"""DWD suites of the source entities, derived from their job specs plus one table of rules.

The job spec already says which columns form the key, which are required, which are enums, currencies
or keyed hashes, and which column's UTC date is ``ds``; the gate re-checks exactly that on the written
Parquet (defence in depth: a job bug or a hand-edited partition cannot reach Postgres). What a spec does
not say (a metric's plausible range, a derived code's vocabulary, timestamps' order, a value that must
agree with what it was computed from, an SCD2 history) is the ``RULES`` table
(:mod:`ops.quality.rules`). Adding an entity is one spec in :mod:`spark_jobs.registry` and one line
in ``RULES``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

import pandas as pd

from ops.quality.engine import Check, Suite
from ops.quality.order_suites import SHA256_HEX
from ops.quality.rules import Agrees, History, InSet, Matches, Ordered, Range, Rule
from spark_jobs import carrier_codes, catalog_item
from spark_jobs.entity_spec import CURRENCY, EntitySpec
from spark_jobs.registry import FLAT_SPECS

BUSINESS_DATE = "_business_date"
CURRENCY_REGEX = r"^[A-Z]{3}$"
ASIN_REGEX = r"^[0-9A-Z]{10}$"
CENT = Decimal("0.01")
MICROS_PER_DAY = Decimal(86_400 * 1_000_000)


def _mapped_event_code(frame: pd.DataFrame) -> pd.Series:
    """The unified code of each row's carrier tag/subtag, as carrier_codes maps it (None: unmapped)."""

    def code(carrier: str, tag: str, subtag: str | None) -> str | None:
        try:
            return carrier_codes.event_code(carrier, tag, None if pd.isna(subtag) else subtag)
        except carrier_codes.UnknownCarrierCodeError:
            return None

    columns = zip(frame["carrier"], frame["carrier_tag"], frame["carrier_subtag"], strict=True)
    return pd.Series([code(*row) for row in columns], index=frame.index, dtype=object)


def _delay_days(frame: pd.DataFrame) -> pd.Series:
    """delivered_at - promised_delivery_at in days, to 0.01 half up (the job's arithmetic, redone)."""
    micros = (frame["delivered_at"] - frame["promised_delivery_at"]) // pd.Timedelta(microseconds=1)
    return pd.Series(
        [
            None if pd.isna(m) else (Decimal(int(m)) / MICROS_PER_DAY).quantize(CENT, ROUND_HALF_UP)
            for m in micros
        ],
        index=frame.index,
        dtype=object,
    )


def _late_by_delay(frame: pd.DataFrame) -> pd.Series:
    """is_late as the sign of delay_days says (a delay rounded to 0.00 cannot tell: is_late is kept)."""

    def late(delay: Decimal | None, is_late: object) -> object:
        if delay is None or pd.isna(delay):
            return None
        return is_late if delay == 0 else delay > 0

    return pd.Series(
        [late(d, x) for d, x in zip(frame["delay_days"], frame["is_late"], strict=True)],
        index=frame.index,
        dtype=object,
    )


def _delivered_by_status(frame: pd.DataFrame) -> pd.Series:
    return frame["shipment_status"] == carrier_codes.DELIVERED


def _open_validity(frame: pd.DataFrame) -> pd.Series:
    return frame["valid_to"].isna()


RULES: Mapping[str, tuple[Rule, ...]] = MappingProxyType(
    {
        "asin_daily_snapshot": (
            Range("rating", 0, 5),
            Range("buy_box_share", 0, 1),
            Range("bsr", 1),
            Range("category_rank", 1),
            Range("price", 0),
            Range("review_count", 0),
            Range("sessions", 0),
            Range("page_views", 0),
        ),
        "review": (Range("rating", 1, 5), Range("helpful_votes", 0)),
        "shop_health_daily": (
            Range("sps_score", 0, 5),
            Range("late_dispatch_rate", 0, 1),
            Range("cancellation_rate", 0, 1),
            Range("negative_review_rate", 0, 1),
            Range("orders_7d", 0),
        ),
        "ad_campaign_hourly": (
            Range("spend", 0),
            Range("impressions", 0),
            Range("clicks", 0),
            Range("conversions", 0),
            Range("gmv", 0),
            Range("daily_budget", 0),
            Matches("asin", ASIN_REGEX, "a 10-character ASIN"),
        ),
        "campaign_exposure": (Range("touch_cost", 0),),
        "tracking_event": (
            InSet("event_code", carrier_codes.EVENT_CODES, "the unified carrier event codes"),
            Agrees(
                "event_code",
                _mapped_event_code,
                "event_code == the mapping of (carrier, carrier_tag, carrier_subtag)",
            ),
        ),
        "shipment": (
            InSet("shipment_status", set(carrier_codes.SHIPMENT_STATUSES.values()), "the unified statuses"),
            InSet("carrier_status", set(carrier_codes.SHIPMENT_STATUSES), "the carrier tags that are mapped"),
            Ordered("updated_at", "created_at"),
            Ordered("promised_delivery_at", "created_at"),
            Ordered("delivered_at", "created_at"),
            Ordered("updated_at", "delivered_at"),
            Agrees("delay_days", _delay_days, "delay_days == delivered_at - promised_delivery_at (days)"),
            Agrees("is_late", _late_by_delay, "is_late agrees with the sign of delay_days"),
            Agrees("is_delivered", _delivered_by_status, "is_delivered == (shipment_status == delivered)"),
        ),
        "catalog_item": (
            Range("list_price", 0),
            Range("image_count", 0),
            Range("bullet_point_count", 0),
            Range("title_length", 0),
            Ordered("valid_to", "valid_from", strict=True),
            Agrees("is_current", _open_validity, "is_current == (valid_to is null)"),
            History(catalog_item.LISTING),
        ),
        "refund": (Range("quantity", 1), Range("refunded_amount", 0)),
    }
)


def _business_date(column: str):
    """The UTC date of a timestamp column, or a date column as is (the freshness rule compares it to ds)."""

    def derive(frame: pd.DataFrame) -> pd.Series:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            return values.dt.tz_convert("UTC").dt.date
        if pd.api.types.is_datetime64_any_dtype(values):
            return values.dt.date
        return values

    return derive


def _key_checks(spec: EntitySpec) -> list[Check]:
    key = list(spec.key)
    checks = [Check("ExpectColumnValuesToNotBeNull", {"column": c}, f"{c} not null") for c in key]
    if len(key) == 1:
        checks.append(Check("ExpectColumnValuesToBeUnique", {"column": key[0]}, f"{key[0]} unique"))
    else:
        checks.append(
            Check("ExpectCompoundColumnsToBeUnique", {"column_list": key}, f"({', '.join(key)}) unique")
        )
    return checks


def _field_checks(spec: EntitySpec) -> list[Check]:
    checks = []
    for f in spec.fields:
        if f.keep and f.required and f.out not in spec.key:  # read-only inputs are not in DWD
            checks.append(Check("ExpectColumnValuesToNotBeNull", {"column": f.out}, f"{f.out} not null"))
        if f.enum is not None:
            checks.append(
                Check(
                    "ExpectColumnValuesToBeInSet",
                    {"column": f.out, "value_set": list(f.enum)},
                    f"{f.out} in {', '.join(f.enum)}",
                )
            )
        if f.kind == CURRENCY:
            checks.append(
                Check(
                    "ExpectColumnValuesToMatchRegex",
                    {"column": f.out, "regex": CURRENCY_REGEX},
                    f"{f.out} is a 3-letter code",
                )
            )
        if f.pii:
            checks.append(
                Check(
                    "ExpectColumnValuesToMatchRegex",
                    {"column": f.out, "regex": SHA256_HEX},
                    f"{f.out} is a sha256 hex digest",
                    sensitive=True,
                )
            )
    return checks


def _derived_checks(spec: EntitySpec) -> list[Check]:
    """A required derived column (a unified code) is never null: the job rejects the record instead."""
    return [
        Check("ExpectColumnValuesToNotBeNull", {"column": d.column}, f"{d.column} not null")
        for d in spec.derived
        if d.required
    ]


def entity_suite(spec: EntitySpec, rules: tuple[Rule, ...] = ()) -> Suite:
    """Row count, key, required, enums, currencies, hashes, the entity's rules, and freshness (last)."""
    freshness = Check(
        "ExpectColumnPairValuesToBeEqual",
        {"column_A": BUSINESS_DATE, "column_B": "ds"},
        f"{spec.partition_by} (UTC date) == ds",
    )
    checks = (
        Check("ExpectTableRowCountToBeBetween", {"min_value": 1}, "row count > 0"),
        *_key_checks(spec),
        *_field_checks(spec),
        *_derived_checks(spec),
        *(check for rule in rules for check in rule.checks()),
        freshness,
    )
    derived = {BUSINESS_DATE: _business_date(spec.partition_by)}
    for rule in rules:
        derived.update(rule.derived())
    table = {name: derive for rule in rules for name, derive in rule.table().items()}
    return Suite(checks=checks, derived=MappingProxyType(derived), table=MappingProxyType(table))


SOURCE_SUITES: Mapping[str, Suite] = MappingProxyType(
    {spec.entity: entity_suite(spec, RULES.get(spec.entity, ())) for spec in FLAT_SPECS}
)
