"""Downloads of a board: CSV, and Excel with typed cells (numbers as numbers, days as dates)."""

from __future__ import annotations

import io

import pandas as pd


def csv_bytes(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False).encode("utf-8")


def excel_bytes(table: pd.DataFrame, sheet: str) -> bytes:
    """One sheet; timestamps lose their (UTC) zone, which Excel cannot store."""
    plain = table.copy()
    for column in plain.columns:
        if isinstance(plain[column].dtype, pd.DatetimeTZDtype):
            plain[column] = plain[column].dt.tz_convert("UTC").dt.tz_localize(None)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        plain.to_excel(writer, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()
