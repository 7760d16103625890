"""The mapping file: how the columns of a CSV export become SP-API-style order records.

A TOML file (stdlib ``tomllib``, no extra dependency) so a user can bring another export without
writing code. Parsing is strict: an unknown key or a missing required field is an error that names the
file and the key, because a typo in a mapping would otherwise silently drop a column.
See ``connectors/importers/README.md`` for the format.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.orders import AMAZON_ORDER_STATUSES, ORDER

ENTITIES = frozenset({"order"})
COMPRESSIONS = frozenset({"auto", "gzip", "none"})
ORDER_FIELDS_REQUIRED = ("order_id", "purchase_date", "buyer_id", "currency")
ORDER_FIELDS_OPTIONAL = ("last_update_date",)
ITEM_FIELDS_REQUIRED = ("asin", "unit_price")
ITEM_FIELDS_OPTIONAL = ("sku", "quantity", "line")
SP_API_ORDER_KEYS = frozenset(k for k in ORDER.schema.known_fields if "." not in k and "[" not in k)
SP_API_ITEM_KEYS = frozenset(
    k.split(".")[1] for k in ORDER.schema.known_fields if k.startswith("OrderItems[].")
)


class MappingError(ValueError):
    """The mapping file is not valid; the message names the file and the key."""


@dataclass(frozen=True)
class CsvOptions:
    """How to read one file: the options ``csv.reader`` and ``open`` need."""

    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8"
    compression: str = "auto"  # auto: gzip when the name ends in .gz


@dataclass(frozen=True)
class Value:
    """Where a field's value comes from: a column, a constant, or the latest of several date columns."""

    column: str | None = None
    const: str | None = None
    latest: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The name a quarantine reason uses for this field: the source column(s), never a value."""
        if self.column is not None:
            return self.column
        if self.latest:
            return "/".join(self.latest)
        return "<constant>"


@dataclass(frozen=True)
class Lookup:
    """A second file joined on a key to bring extra columns into each row (e.g. Olist customers)."""

    path: str
    key: str
    on: str
    columns: tuple[str, ...]
    csv: CsvOptions


@dataclass(frozen=True)
class StatusMap:
    """A source status column mapped onto the SP-API ``OrderStatus`` vocabulary."""

    column: str
    values: Mapping[str, str]
    prefixes: Mapping[str, str]
    default: str | None

    def map(self, raw: str) -> str | None:
        if raw in self.values:
            return self.values[raw]
        for prefix, status in self.prefixes.items():
            if raw.startswith(prefix):
                return status
        return self.default


@dataclass(frozen=True)
class FileSpec:
    """One input file (or glob), its key columns, joined lookups, field values and pass-through extras.

    ``path`` is None only for ``[items]`` when the item lines are the ``[orders]`` rows themselves.
    """

    path: str | None
    key: tuple[str, ...]
    csv: CsvOptions
    fields: Mapping[str, Value]
    extra: Mapping[str, Value]
    lookups: tuple[Lookup, ...] = ()


@dataclass(frozen=True)
class ImportMapping:
    """A whole mapping file: the source identity and how rows group into order records."""

    path: Path
    source: str
    entity: str
    schema_version: int
    marketplace_id: str
    sales_channel: str
    timezone: ZoneInfo
    date_format: str | None
    orders: FileSpec
    status: StatusMap
    items: FileSpec
    cancelled_quantities_negative: bool = False
    extra_field_names: frozenset[str] = field(default_factory=frozenset)  # as field paths, for drift


class _Table:
    """A TOML table read strictly: every key must be consumed or named as allowed."""

    def __init__(self, data: Any, where: str, file: Path) -> None:
        if not isinstance(data, dict):
            raise MappingError(f"{file}: [{where}] must be a table")
        self.data, self.where, self.file = data, where, file

    def error(self, message: str) -> MappingError:
        return MappingError(f"{self.file}: [{self.where}] {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None, *, required: bool = False):
        if key not in self.data:
            if required:
                raise self.error(f"missing required key {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, kind):
            raise self.error(f"{key!r} has the wrong type ({type(value).__name__})")
        return value

    def check_keys(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise self.error(f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _csv_options(data: Any, where: str, file: Path) -> CsvOptions:
    table = _Table(data if data is not None else {}, where, file)
    table.check_keys({"delimiter", "quotechar", "encoding", "compression"})
    options = CsvOptions(
        delimiter=table.get("delimiter", str, ","),
        quotechar=table.get("quotechar", str, '"'),
        encoding=table.get("encoding", str, "utf-8"),
        compression=table.get("compression", str, "auto"),
    )
    if len(options.delimiter) != 1 or len(options.quotechar) != 1:
        raise table.error("delimiter and quotechar must be one character")
    if options.compression not in COMPRESSIONS:
        raise table.error(f"compression must be one of {sorted(COMPRESSIONS)}")
    return options


def _value(data: Any, where: str, file: Path) -> Value:
    if isinstance(data, str):
        return Value(column=data)
    table = _Table(data, where, file)
    table.check_keys({"column", "const", "latest"})
    if len(table.data) != 1:
        raise table.error("give exactly one of 'column', 'const' or 'latest'")
    if "const" in table.data:
        const = table.get("const", (str, int, float))
        return Value(const=str(const))
    if "latest" in table.data:
        columns = table.get("latest", list)
        if not columns or not all(isinstance(c, str) for c in columns):
            raise table.error("'latest' must be a non-empty list of column names")
        return Value(latest=tuple(columns))
    return Value(column=table.get("column", str))


def _values(data: Any, where: str, file: Path, required: tuple[str, ...], optional: tuple[str, ...]):
    table = _Table(data, where, file)
    table.check_keys({*required, *optional})
    for name in required:
        table.get(name, (str, dict), required=True)
    return {name: _value(raw, f"{where}.{name}", file) for name, raw in table.data.items()}


def _extras(data: Any, where: str, file: Path) -> dict[str, Value]:
    table = _Table(data if data is not None else {}, where, file)
    return {name: _value(raw, f"{where}.{name}", file) for name, raw in table.data.items()}


def _lookups(data: Any, where: str, file: Path) -> tuple[Lookup, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise MappingError(f"{file}: [[{where}]] must be an array of tables")
    lookups = []
    for index, raw in enumerate(data):
        table = _Table(raw, f"{where}[{index}]", file)
        table.check_keys({"path", "key", "on", "columns", "csv"})
        columns = table.get("columns", list, required=True)
        key = table.get("key", str, required=True)
        lookups.append(
            Lookup(
                path=table.get("path", str, required=True),
                key=key,
                on=table.get("on", str, key),
                columns=tuple(str(c) for c in columns),
                csv=_csv_options(table.data.get("csv"), f"{where}[{index}].csv", file),
            )
        )
    return tuple(lookups)


def _file_spec(data: Any, where: str, file: Path, *, required: tuple[str, ...], optional: tuple[str, ...]):
    table = _Table(data, where, file)
    table.check_keys({"path", "key", "csv", "fields", "extra", "lookups", "status"})
    path = table.get("path", str, required=where == "orders")
    key = table.get("key", list, [], required=path is not None)
    if path is not None and (not key or not all(isinstance(k, str) for k in key)):
        raise table.error("'key' must be a non-empty list of column names")
    return FileSpec(
        path=path,
        key=tuple(key),
        csv=_csv_options(table.data.get("csv"), f"{where}.csv", file),
        fields=_values(table.get("fields", dict, required=True), f"{where}.fields", file, required, optional),
        extra=_extras(table.data.get("extra"), f"{where}.extra", file),
        lookups=_lookups(table.data.get("lookups"), f"{where}.lookups", file),
    )


def _status(data: Any, file: Path) -> StatusMap:
    table = _Table(data, "orders.status", file)
    table.check_keys({"column", "values", "prefixes", "default"})
    status = StatusMap(
        column=table.get("column", str, required=True),
        values=dict(table.get("values", dict, {})),
        prefixes=dict(table.get("prefixes", dict, {})),
        default=table.get("default", str),
    )
    targets = {*status.values.values(), *status.prefixes.values()} | ({status.default} - {None})
    outside = sorted(str(t) for t in targets if t not in AMAZON_ORDER_STATUSES)
    if outside:
        raise table.error(f"maps to statuses outside the SP-API vocabulary: {outside}")
    return status


def load_mapping(path: Path | str) -> ImportMapping:
    """Parse and check a mapping file; every error names the file and the offending key."""
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{file}: not valid TOML: {exc}") from None
    top = _Table(raw, "", file)
    top.check_keys({"source", "orders", "items"})
    src = _Table(top.get("source", dict, required=True), "source", file)
    src.check_keys(
        {"name", "entity", "schema_version", "marketplace_id", "sales_channel", "timezone", "date_format",
         "cancelled_quantities_negative"}
    )  # fmt: skip
    entity = src.get("entity", str, "order")
    if entity not in ENTITIES:
        raise src.error(f"entity {entity!r} is not supported; supported: {sorted(ENTITIES)}")
    try:
        zone = ZoneInfo(src.get("timezone", str, "UTC"))
    except (KeyError, ValueError):
        raise src.error("timezone is not an IANA zone name") from None
    orders_raw = top.get("orders", dict, required=True)
    orders = _file_spec(
        orders_raw, "orders", file, required=ORDER_FIELDS_REQUIRED, optional=ORDER_FIELDS_OPTIONAL
    )
    items = _file_spec(
        top.get("items", dict, required=True),
        "items",
        file,
        required=ITEM_FIELDS_REQUIRED,
        optional=ITEM_FIELDS_OPTIONAL,
    )
    if items.path is not None and len(items.key) != len(orders.key):
        raise MappingError(f"{file}: [items] key must have as many columns as [orders] key")
    if items.path is None and items.lookups:
        raise MappingError(f"{file}: [items] without a path reads the orders rows; put lookups on [orders]")
    if "status" not in orders_raw:
        raise MappingError(f"{file}: [orders.status] is required")
    reserved = {*SP_API_ORDER_KEYS, *SP_API_ITEM_KEYS}
    clash = sorted(reserved & {*orders.extra, *items.extra})
    if clash:
        raise MappingError(f"{file}: extra field(s) {clash} would overwrite SP-API fields; rename them")
    extras = {*orders.extra, *(f"OrderItems[].{name}" for name in items.extra)}
    return ImportMapping(
        path=file,
        source=src.get("name", str, required=True),
        entity=entity,
        schema_version=src.get("schema_version", int, 1),
        marketplace_id=src.get("marketplace_id", str, required=True),
        sales_channel=src.get("sales_channel", str, required=True),
        timezone=zone,
        date_format=src.get("date_format", str),
        orders=orders,
        status=_status(orders_raw["status"], file),
        items=items,
        cancelled_quantities_negative=src.get("cancelled_quantities_negative", bool, False),
        extra_field_names=frozenset(extras),
    )
