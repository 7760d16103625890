"""SCD2 history verdicts, judged over every version of an entity (all partitions at once).

GX validates one batch at a time and an SCD2 chain crosses partitions (a version is closed by one in a
later partition), so the chain rules are computed here as one text column per rule: null where the
version is fine, else what is wrong, naming the listing and the versions involved. Each partition's GX
batch then expects its rows' verdicts to be null (the ODS gate's "verdict column" pattern), so a broken
chain fails like any expectation, in every partition that holds one of the versions involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

CHAIN_PROBLEM = "_scd2_chain_problem"
CURRENT_PROBLEM = "_scd2_current_problem"


@dataclass(frozen=True)
class Columns:
    key: tuple[str, ...]
    valid_from: str
    valid_to: str
    is_current: str


def _at(value: object) -> str:
    if value is None or pd.isna(value):
        return "open"
    stamp = pd.Timestamp(value)
    return (stamp.tz_convert("UTC") if stamp.tzinfo else stamp).strftime("%Y-%m-%dT%H:%M:%SZ")


def _name(row: pd.Series, key: tuple[str, ...]) -> str:
    return "/".join(str(row[c]) for c in key)


def _ordered(frame: pd.DataFrame, c: Columns) -> pd.DataFrame:
    """Versions in chain order with their neighbours' bounds (index kept: verdicts align to ``frame``)."""
    ordered = frame[[*c.key, c.valid_from, c.valid_to, c.is_current]].sort_values(
        [*c.key, c.valid_from], kind="stable"
    )
    chain = ordered.groupby(list(c.key), sort=False, dropna=False)
    return ordered.assign(
        _next_from=chain[c.valid_from].shift(-1),
        _prev_from=chain[c.valid_from].shift(1),
        _prev_to=chain[c.valid_to].shift(1),
        _has_next=chain.cumcount(ascending=False) > 0,
        _has_prev=chain.cumcount() > 0,
    )


def _link(valid_to: object, next_from: object, next_start_equal: bool) -> str | None:
    """How the link from a version to its successor is broken, or None when ``valid_to == next_from``."""
    if next_start_equal:
        return "starts with"
    if valid_to is None or pd.isna(valid_to):
        return "stays open past"
    if valid_to > next_from:
        return "overlaps"
    if valid_to < next_from:
        return "leaves a gap before"
    return None


def _chain_problem(row: pd.Series, c: Columns) -> str | None:
    name, start, end = _name(row, c.key), row[c.valid_from], row[c.valid_to]
    if row["_has_next"]:
        broken = _link(end, row["_next_from"], start == row["_next_from"])
        if broken is not None:
            return (
                f"{name} [{_at(start)}, {_at(end)}) {broken} the next version from {_at(row['_next_from'])}"
            )
    if row["_has_prev"]:
        broken = _link(row["_prev_to"], start, start == row["_prev_from"])
        if broken is not None:
            return (
                f"{name} version from {_at(start)} follows [{_at(row['_prev_from'])}, "
                f"{_at(row['_prev_to'])}), which {broken} it"
            )
    return None


def _suspects(o: pd.DataFrame, c: Columns) -> pd.Series:
    """Versions whose link to a neighbour may be broken (vectorised; only these get a text verdict)."""
    start, end = o[c.valid_from], o[c.valid_to]
    to_next = o["_has_next"] & (end.isna() | (end != o["_next_from"]) | (start == o["_next_from"]))
    from_prev = o["_has_prev"] & (
        o["_prev_to"].isna() | (o["_prev_to"] != start) | (start == o["_prev_from"])
    )
    return to_next | from_prev


def chain_problems(frame: pd.DataFrame, columns: Columns) -> pd.Series:
    """Per version: null, or how its link to the previous or next version of its key is broken."""
    verdicts = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if frame.empty:
        return verdicts
    ordered = _ordered(frame, columns)
    for index, row in ordered[_suspects(ordered, columns)].iterrows():
        verdicts[index] = _chain_problem(row, columns)
    return verdicts


def _current_problem(row: pd.Series, c: Columns) -> str:
    if row["_current_versions"] > 1:
        count, start = row["_current_versions"], _at(row[c.valid_from])
        return f"{_name(row, c.key)}: {count} current versions (this one from {start})"
    return f"{_name(row, c.key)}: no current version (the latest is valid to {_at(row[c.valid_to])})"


def current_problems(frame: pd.DataFrame, columns: Columns) -> pd.Series:
    """Null unless the key has no or several current versions: then on its current ones (or its latest)."""
    verdicts = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if frame.empty:
        return verdicts
    ordered = _ordered(frame, columns)
    current = ordered[columns.is_current].fillna(False).astype(bool)
    counts = current.groupby([ordered[k] for k in columns.key], dropna=False).transform("sum")
    flagged = (current & (counts > 1)) | ((counts == 0) & ~ordered["_has_next"])
    for index, row in ordered.assign(_current_versions=counts)[flagged].iterrows():
        verdicts[index] = _current_problem(row, columns)
    return verdicts
