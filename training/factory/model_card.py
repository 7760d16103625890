"""Pieces every model card shares."""

from __future__ import annotations

from collections.abc import Mapping


def metrics_table(notes: Mapping[str, str], columns: Mapping[str, Mapping[str, float] | None]) -> str:
    """A Markdown table: one row per metric in ``notes``, one column per evaluated scorer that exists."""
    shown = {name: values for name, values in columns.items() if values}
    lines = ["| metric | " + " | ".join(shown) + " |", "|---" * (len(shown) + 1) + "|"]
    for key, note in notes.items():
        cells = " | ".join(f"{values[key]:.4f}" for values in shown.values())
        lines.append(f"| {note} | {cells} |")
    return "\n".join(lines)
