"""CSV rows → one SP-API-style order record per order, filed under its purchase day (UTC ``ds``).

Every input row ends up in exactly one place: inside a landed order record (as one of its items) or in
the quarantine as a ``Rejected`` record whose reason names the file, the line and the column. Rows
that cannot be dated are filed under the day of the nearest dated row of the same file (the one before
it, else the one after), so a rerun files them the same way whatever the import range.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.importers.fields import CellReader, FieldProblem, money
from connectors.importers.files import ImportFileError, Row, read_lookup, read_rows
from connectors.importers.mapping import FileSpec, ImportMapping, Lookup
from connectors.orders import ORDER
from connectors.source import iso_z


class Rejected(dict):
    """A quarantined input (serialised as its content: file, line, row) carrying its reason."""

    def __init__(self, reason: str, content: dict[str, Any]) -> None:
        super().__init__(content)
        self.reason = reason


@dataclass
class _Order:
    """An order being assembled from its header row and its item rows."""

    key: tuple[str, ...]
    file: str
    line: int
    ds: date
    record: dict[str, Any]
    currency: str
    items: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    rows_rejected: int = 0


@dataclass
class Assembled:
    """The import's records by day, and what became of the rows read (lookup files not counted)."""

    days: dict[date, list[dict[str, Any]]]
    rows_read: int = 0
    rows_skipped: int = 0  # rows of orders placed outside the requested range
    items: int = 0  # item lines inside landed orders
    rows_rejected: int = 0  # rows quarantined on their own (plus item rows of rejected orders)
    orders: int = 0
    orders_rejected: int = 0


class _Filer:
    """Puts records under days; undated ones go to the nearest dated row of the same file."""

    def __init__(self) -> None:
        self.days: dict[date, list[dict[str, Any]]] = defaultdict(list)
        self._last: date | None = None
        self._waiting: list[dict[str, Any]] = []
        self._leftover: list[dict[str, Any]] = []

    def start_file(self) -> None:
        self._leftover.extend(self._waiting)
        self._last, self._waiting = None, []

    def seen(self, ds: date) -> None:
        if self._waiting:
            self.days[ds].extend(self._waiting)
            self._waiting = []
        self._last = ds

    def file(self, record: dict[str, Any], ds: date | None) -> None:
        if ds is not None:
            self.seen(ds)
            self.days[ds].append(record)
        elif self._last is not None:
            self.days[self._last].append(record)
        else:
            self._waiting.append(record)

    def finish(self) -> dict[date, list[dict[str, Any]]]:
        self.start_file()
        if self._leftover:
            if not self.days:
                raise ImportFileError("no row of the export has a readable purchase date")
            self.days[min(self.days)].extend(self._leftover)
        return dict(self.days)


class _Assembler:
    def __init__(self, mapping: ImportMapping, data_dir: Path, start: date | None, end: date | None) -> None:
        self.m = mapping
        self.start, self.end = start, end
        self.data_dir = data_dir
        self.cells = CellReader(mapping.date_format, mapping.timezone)
        self.filer = _Filer()
        self.orders: dict[tuple[str, ...], _Order] = {}
        self.rejected_heads: dict[tuple[str, ...], tuple[date | None, str, int]] = {}
        self.counts: Counter[str] = Counter()
        self._checked: set[str] = set()

    # ---- rows -----------------------------------------------------------------------------------
    def _rows(self, spec: FileSpec) -> Iterator[Row]:
        lookups = [(lk, *read_lookup(lk, self.data_dir)) for lk in spec.lookups]
        assert spec.path is not None
        self.filer.start_file()
        for row in read_rows(spec.path, spec.csv, self.data_dir):
            self.counts["rows_read"] += 1
            self._check_header(spec, row)
            yield self._enrich(row, lookups)

    def _check_header(self, spec: FileSpec, row: Row) -> None:
        """A mapped column missing from the header is a mapping error, not bad data: stop, say which."""
        if row.file in self._checked or row.problem is not None:
            return
        wanted = {*spec.key, *(lk.on for lk in spec.lookups)}
        specs = [*spec.fields.values(), *spec.extra.values()]
        if spec is self.m.orders:
            wanted.add(self.m.status.column)
            if self.m.items.path is None:
                specs += [*self.m.items.fields.values(), *self.m.items.extra.values()]
        for value in specs:
            wanted.update([value.column] if value.column else value.latest)
        from_lookups = {c for lk in spec.lookups for c in lk.columns}
        missing = sorted(wanted - from_lookups - set(row.values))
        if missing:
            raise ImportFileError(f"{self.m.path.name}: {row.file} has no column(s) {missing}")
        self._checked.add(row.file)

    @staticmethod
    def _enrich(row: Row, lookups: list[tuple[Lookup, str, dict[str, dict[str, str]]]]) -> Row:
        if not lookups or row.problem is not None:
            return row
        values = dict(row.values)
        for lookup, name, table in lookups:
            found = table.get(values.get(lookup.on, ""))
            if found is None:
                return Row(row.file, row.line, values, f"{lookup.on} is not found in {name}")
            values.update(found)
        return Row(row.file, row.line, values)

    def _reject(self, row: Row, reason: str, ds: date | None) -> None:
        self.counts["rows_rejected"] += 1
        content = {"file": row.file, "line": row.line, "row": row.values}
        self.filer.file(Rejected(f"{row.file} line {row.line}: {reason}", content), ds)

    def _outside(self, ds: date | None) -> bool:
        if ds is None:
            return False
        return (self.start is not None and ds < self.start) or (self.end is not None and ds > self.end)

    def _skip(self, ds: date) -> None:
        """A row outside the range still dates its neighbours, so filing never depends on the range."""
        self.counts["rows_skipped"] += 1
        self.filer.seen(ds)

    def _try_ds(self, row: Row) -> date | None:
        try:
            return self.cells.timestamp(self.m.orders.fields["purchase_date"], row.values).date()
        except FieldProblem:
            return None

    # ---- orders and items -------------------------------------------------------------------------
    def _head(self, row: Row) -> _Order:
        f, cells, values = self.m.orders.fields, self.cells, row.values
        if row.problem is not None:
            raise FieldProblem("", row.problem)  # a whole-row problem, already a sentence
        order_id = cells.text(f["order_id"], values) or ""
        purchased = cells.timestamp(f["purchase_date"], values)
        updated = cells.timestamp(f["last_update_date"], values) if "last_update_date" in f else purchased
        status_raw = values.get(self.m.status.column, "").strip()
        status = self.m.status.map(status_raw)
        if status is None:
            raise FieldProblem(self.m.status.column, "has a value not mapped in [orders.status]")
        record: dict[str, Any] = {
            "AmazonOrderId": order_id,
            "PurchaseDate": iso_z(purchased),
            "LastUpdateDate": iso_z(max(updated, purchased)),
            "OrderStatus": status,
            "MarketplaceId": self.m.marketplace_id,
            "SalesChannel": self.m.sales_channel,
            "BuyerInfo": {"BuyerId": cells.text(f["buyer_id"], values)},
        }
        record.update(self._extras(self.m.orders, values))
        key = tuple(values.get(k, "") for k in self.m.orders.key)
        currency = cells.currency(f["currency"], values)
        return _Order(key, row.file, row.line, purchased.date(), record, currency)

    def _extras(self, spec: FileSpec, values: dict[str, str]) -> dict[str, str]:
        found = {name: self.cells.text(v, values, required=False) for name, v in spec.extra.items()}
        return {name: value for name, value in found.items() if value is not None}

    def _item(self, row: Row, order: _Order, sequence: int) -> dict[str, Any]:
        f, cells, values = self.m.items.fields, self.cells, row.values
        if row.problem is not None:
            raise FieldProblem("", row.problem)  # a whole-row problem, already a sentence
        asin = cells.text(f["asin"], values) or ""
        quantity = cells.integer(f["quantity"], values) if "quantity" in f else 1
        cancelled = order.record["OrderStatus"] == "Canceled"
        if quantity < 0 and cancelled and self.m.cancelled_quantities_negative:
            quantity = -quantity
        if quantity <= 0:
            raise FieldProblem(f["quantity"].label, "is not a positive integer")
        price = cells.decimal(f["unit_price"], values)
        if price <= 0:
            raise FieldProblem(f["unit_price"].label, "is not a positive amount")
        line = cells.text(f["line"], values) if "line" in f else str(sequence)
        return {
            "OrderItemId": f"{order.record['AmazonOrderId']}-{line}",
            "ASIN": asin,
            "SellerSKU": cells.text(f["sku"], values) if "sku" in f else asin,
            "QuantityOrdered": quantity,
            "ItemPrice": {"CurrencyCode": order.currency, "Amount": money(price * quantity)},
            **self._extras(self.m.items, values),
        }

    def _add_item(self, row: Row, order: _Order, sequence: int) -> None:
        try:
            item = self._item(row, order, sequence)
        except FieldProblem as problem:
            self._reject(row, str(problem), order.ds)
            order.rows_rejected += 1
            return
        self.filer.seen(order.ds)
        order.items.append(item)
        order.rows += 1

    def read_single_file(self) -> None:
        """One file whose rows are item lines; rows with the same key are one order (UCI invoices)."""
        sequences: Counter[tuple[str, ...]] = Counter()
        group_days: dict[tuple[str, ...], date] = {}  # an order's day is its first dated row's
        for row in self._rows(self.m.orders):
            key = tuple(row.values.get(k, "") for k in self.m.orders.key)
            sequences[key] += 1
            ds = group_days.get(key)
            if ds is None and (ds := self._try_ds(row)) is not None:
                group_days[key] = ds
            if self._outside(ds):
                self._skip(ds)
                continue
            try:
                head = self._head(row)
            except FieldProblem as problem:
                self._reject(row, str(problem), ds)
                continue
            head.ds = ds or head.ds
            order = self.orders.setdefault(key, head)
            self._add_item(row, order, sequences[key])

    def read_two_files(self) -> None:
        """A header file with one row per order and an item file joined to it on the key (Olist)."""
        skipped: dict[tuple[str, ...], date] = {}
        for row in self._rows(self.m.orders):
            key = tuple(row.values.get(k, "") for k in self.m.orders.key)
            ds = self._try_ds(row)
            if ds is not None and self._outside(ds):
                self._skip(ds)
                skipped[key] = ds
                continue
            first = self.orders.get(key) or self.rejected_heads.get(key)
            try:
                if first is not None:
                    where = first.line if isinstance(first, _Order) else first[2]
                    raise FieldProblem("/".join(self.m.orders.key), f"repeats the key of line {where}")
                head = self._head(row)
            except FieldProblem as problem:
                ds = self._try_ds(row)
                self.rejected_heads.setdefault(key, (ds, row.file, row.line))
                self._reject(row, str(problem), ds)
                continue
            self.filer.seen(head.ds)
            self.orders[key] = head
        items = self.m.items
        for row in self._rows(items):
            key = tuple(row.values.get(k, "") for k in items.key)
            if key in skipped:
                self._skip(skipped[key])
                continue
            order = self.orders.get(key)
            if order is not None:
                self._add_item(row, order, order.rows + 1)
                continue
            columns = "/".join(items.key)
            if key in self.rejected_heads:
                ds, file, line = self.rejected_heads[key]
                self._reject(row, f"{columns} belongs to an order rejected at {file} line {line}", ds)
            else:
                self._reject(row, f"{columns} has no order row in {self.m.orders.path}", None)

    def finish(self) -> Assembled:
        single_file = self.m.items.path is None
        for order in self.orders.values():
            if single_file and not order.items:
                self.counts["orders_rejected"] += 1  # its rows are each in the quarantine already
                continue
            record = order.record
            total = sum((Decimal(i["ItemPrice"]["Amount"]) for i in order.items), Decimal(0))
            record["OrderTotal"] = {"CurrencyCode": order.currency, "Amount": money(total)}
            record["OrderItems"] = order.items
            problem = ORDER.schema.validate(record)
            if problem is None:
                self.counts["orders"] += 1
                self.counts["items"] += order.rows
                self.filer.days[order.ds].append(record)
            else:
                self.counts["orders_rejected"] += 1
                self.counts["rows_rejected"] += order.rows
                reason = f"{order.file} line {order.line}: {problem}"
                self.filer.days[order.ds].append(
                    Rejected(reason, {"file": order.file, "line": order.line, "order": record})
                )
        days = self.filer.finish()
        for records in days.values():  # orders first (file order), then rejects (file, line)
            records.sort(key=lambda r: (isinstance(r, Rejected), r.get("file", ""), r.get("line", 0)))
        return Assembled(days=days, **{k: self.counts[k] for k in _COUNTS})


_COUNTS = ("rows_read", "rows_skipped", "items", "rows_rejected", "orders", "orders_rejected")


def assemble(
    mapping: ImportMapping, data_dir: Path, start: date | None = None, end: date | None = None
) -> Assembled:
    """Read every mapped file and build the records of the days in ``[start, end]`` (open ends: all).

    Orders placed outside the range are skipped early (counted, not built), so a one-month import of a
    large export costs little more than reading the file.
    """
    assembler = _Assembler(mapping, data_dir, start, end)
    if mapping.items.path is None:
        assembler.read_single_file()
    else:
        assembler.read_two_files()
    return assembler.finish()


def in_range(days: Iterable[date], start: date | None, end: date | None) -> list[date]:
    """Every day from ``start`` (default: the first day with data) to ``end`` (default: the last)."""
    known = sorted(days)
    if not known and (start is None or end is None):
        return []
    first = start or known[0]
    last = end or known[-1]
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]
