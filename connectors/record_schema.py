"""Declarative record schemas: a validator and the known field paths from one small table per entity.

A schema says, per field, what type it must have and whether it may be missing or null. ``validate``
returns None for a record that can be typed downstream, else a reason naming the field (never its value,
so reasons are safe to log and share). Fields the schema does not know are not errors: the landing step
records them as drift in the manifest, unless the schema is ``strict``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Field:
    """One field: ``check`` decides whether a (non-null) value has the right type; ``kind`` names it."""

    kind: str
    check: Callable[[Any], bool]
    required: bool = True
    nullable: bool = False
    children: Mapping[str, Field] | None = None  # an object's own fields
    elements: Mapping[str, Field] | None = None  # a list of objects: each element's fields

    def optional(self) -> Field:
        return replace(self, required=False)

    def or_null(self) -> Field:
        return replace(self, nullable=True)


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (``Z`` allowed), else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def text() -> Field:
    """A non-empty string (identifiers, codes, names)."""
    return Field("a non-empty string", lambda v: isinstance(v, str) and v.strip() != "")


def any_text() -> Field:
    """A string, possibly empty (free text such as a review title)."""
    return Field("a string", lambda v: isinstance(v, str))


def integer(minimum: int | None = None, maximum: int | None = None) -> Field:
    bounds = _bounds_text(minimum, maximum)
    return Field(
        f"an integer{bounds}",
        lambda v: _is_int(v) and (minimum is None or v >= minimum) and (maximum is None or v <= maximum),
    )


def number(minimum: float | None = None, maximum: float | None = None) -> Field:
    bounds = _bounds_text(minimum, maximum)
    return Field(
        f"a number{bounds}",
        lambda v: _is_number(v) and (minimum is None or v >= minimum) and (maximum is None or v <= maximum),
    )


def boolean() -> Field:
    return Field("a boolean", lambda v: isinstance(v, bool))


def timestamp() -> Field:
    return Field("an ISO 8601 date-time with zone", lambda v: parse_timestamp(v) is not None)


def day() -> Field:
    return Field("a YYYY-MM-DD date", _is_date)


def decimal_text() -> Field:
    return Field("a decimal string", lambda v: isinstance(v, str) and _DECIMAL.fullmatch(v) is not None)


def currency() -> Field:
    return Field(
        "a 3-letter currency code", lambda v: isinstance(v, str) and _CURRENCY.fullmatch(v) is not None
    )


def text_list() -> Field:
    return Field("a list of strings", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))


def obj(**children: Field) -> Field:
    return Field("an object", lambda v: isinstance(v, Mapping), children=children)


def one_of(values: Iterable[str], vocabulary: str) -> Field:
    """A string from a closed vocabulary (an API's status codes), named for messages."""
    allowed = frozenset(values)
    return Field(f"in {vocabulary}", lambda v: isinstance(v, str) and v in allowed)


def object_list(**elements: Field) -> Field:
    """A non-empty list of objects, each checked against ``elements`` (an order's items)."""
    return Field(
        "a non-empty list of objects",
        lambda v: isinstance(v, list) and bool(v) and all(isinstance(e, Mapping) for e in v),
        elements=elements,
    )


def money(amount: str = "amount", code: str = "currencyCode") -> Field:
    """A ``{amount: "12.34", currencyCode: "USD"}`` object (Catalog Items style)."""
    return obj(**{amount: decimal_text(), code: currency()})


def _bounds_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" in [{minimum:g}, {maximum:g}]"
    if minimum is not None:
        return f" >= {minimum:g}"
    if maximum is not None:
        return f" <= {maximum:g}"
    return ""


def _problem(record: Mapping[str, Any], fields: Mapping[str, Field], prefix: str, strict: bool) -> str | None:
    for name, spec in fields.items():
        path = f"{prefix}{name}"
        if name not in record:
            if spec.required:
                return f"missing {path}"
            continue
        value = record[name]
        if value is None:
            if spec.nullable:
                continue
            return f"{path} is null"
        if not spec.check(value):
            return f"{path} is not {spec.kind}"
        if spec.children is not None and (problem := _problem(value, spec.children, f"{path}.", strict)):
            return problem
        for index, element in enumerate(value if spec.elements is not None else ()):
            if problem := _problem(element, spec.elements, f"{path}[{index}].", strict):
                return problem
    if strict:
        unknown = sorted(set(record) - set(fields))
        if unknown:
            return f"unknown field {prefix}{unknown[0]}"
    return None


def _paths(fields: Mapping[str, Field], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for name, spec in fields.items():
        out.add(f"{prefix}{name}")
        if spec.children is not None:
            out |= _paths(spec.children, f"{prefix}{name}.")
        if spec.elements is not None:
            out |= _paths(spec.elements, f"{prefix}{name}[].")
    return out


def field_paths(record: Mapping[str, Any], prefix: str = "", depth: int = 3) -> Iterable[str]:
    """Dotted paths of a record's fields (``OrderItems[].ASIN`` for lists of objects), for drift checks."""
    for key, value in record.items():
        path = f"{prefix}{key}"
        yield path
        if depth <= 1:
            continue
        if isinstance(value, Mapping):
            yield from field_paths(value, f"{path}.", depth - 1)
        elif isinstance(value, list):
            for element in value:
                if isinstance(element, Mapping):
                    yield from field_paths(element, f"{path}[].", depth - 1)


@dataclass(frozen=True)
class RecordSchema:
    """An entity's record contract at one ``version``; ``validate`` plugs into ``Resource.validate``."""

    version: int
    fields: Mapping[str, Field]
    strict: bool = False
    known_fields: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "known_fields", frozenset(_paths(self.fields)))

    def validate(self, record: Any) -> str | None:
        """None if ``record`` matches the schema, else why not (field names only, never values)."""
        if not isinstance(record, Mapping):
            return "record is not a JSON object"
        return _problem(record, self.fields, "", self.strict)
