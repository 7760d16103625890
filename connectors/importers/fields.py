"""Typed values out of CSV cells, with problems that name the column and never the value (no PII)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from connectors.importers.mapping import Value

_CURRENCY = re.compile(r"[A-Z]{3}")
_CENT = Decimal("0.01")


class FieldProblem(ValueError):
    """Why one cell cannot become a field; ``column`` is the source column, for the quarantine reason."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(f"{column} {message}".strip())
        self.column = column


class CellReader:
    """Reads fields from rows with one mapping's date format and timezone; caches parsed timestamps."""

    def __init__(self, date_format: str | None, zone: ZoneInfo) -> None:
        self.date_format = date_format
        self.zone = zone
        self._dates: dict[str, datetime | None] = {}

    def text(self, value: Value, row: dict[str, str], *, required: bool = True) -> str | None:
        if value.const is not None:
            return value.const
        column = value.column or ""
        cell = row.get(column, "").strip()
        if cell == "":
            if required:
                raise FieldProblem(column, "is empty")
            return None
        return cell

    def _parse_date(self, cell: str) -> datetime | None:
        if cell not in self._dates:
            try:
                if self.date_format:
                    parsed = datetime.strptime(cell, self.date_format)
                else:
                    parsed = datetime.fromisoformat(cell.replace("Z", "+00:00"))
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=self.zone)
            self._dates[cell] = parsed.astimezone(UTC) if parsed is not None else None
        return self._dates[cell]

    def timestamp(self, value: Value, row: dict[str, str]) -> datetime:
        """A UTC datetime; ``latest`` takes the latest non-empty column (empty ones are events not yet
        happened, e.g. an undelivered order's delivery date)."""
        columns = value.latest or (value.column or "",)
        moments = []
        for column in columns:
            cell = row.get(column, "").strip()
            if cell == "":
                continue
            moment = self._parse_date(cell)
            if moment is None:
                expected = f"format {self.date_format}" if self.date_format else "ISO 8601"
                raise FieldProblem(column, f"is not a date-time in {expected}")
            moments.append(moment)
        if not moments:
            raise FieldProblem(value.label, "is empty")
        return max(moments)

    def currency(self, value: Value, row: dict[str, str]) -> str:
        code = self.text(value, row) or ""
        if not _CURRENCY.fullmatch(code):
            raise FieldProblem(value.label, "is not a 3-letter upper-case currency code")
        return code

    def decimal(self, value: Value, row: dict[str, str]) -> Decimal:
        cell = self.text(value, row) or ""
        try:
            number = Decimal(cell)
        except InvalidOperation:
            raise FieldProblem(value.label, "is not a decimal number") from None
        if not number.is_finite():
            raise FieldProblem(value.label, "is not a finite decimal number")
        return number

    def integer(self, value: Value, row: dict[str, str]) -> int:
        cell = self.text(value, row) or ""
        try:
            return int(cell)
        except ValueError:
            raise FieldProblem(value.label, "is not an integer") from None


def money(amount: Decimal) -> str:
    """A decimal string with at least two places and never an exponent ("199.90", "0.001")."""
    if amount.as_tuple().exponent > -2:  # type: ignore[operator]
        amount = amount.quantize(_CENT)
    return f"{amount:f}"
