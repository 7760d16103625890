"""Reading CSV exports: globs, gzip, encodings, and the file/line of every row for quarantine reasons."""

from __future__ import annotations

import csv
import glob
import gzip
import io
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from connectors.importers.mapping import CsvOptions, Lookup

log = logging.getLogger(__name__)

PROGRESS_EVERY = 100_000


class ImportFileError(FileNotFoundError):
    """A mapped file is missing or unreadable; named by the mapping's path and where it was looked for."""


@dataclass(frozen=True)
class Row:
    """One CSV record: where it came from (file label, first line) and its values by header name.

    ``problem`` is set when the record cannot be read as a row of the header (wrong column count).
    """

    file: str
    line: int
    values: dict[str, str]
    problem: str | None = None


def resolve(pattern: str, data_dir: Path) -> list[Path]:
    """The files a mapping path names (relative to ``data_dir``, globs allowed), sorted for determinism."""
    full = Path(pattern) if Path(pattern).is_absolute() else data_dir / pattern
    matches = sorted(Path(p) for p in glob.glob(str(full)))
    if not matches:
        raise ImportFileError(f"no file matches {pattern!r} (looked in {data_dir})")
    return matches


def label(path: Path, data_dir: Path) -> str:
    """How reasons name a file: relative to the data directory when it is under it."""
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def _open_text(path: Path, options: CsvOptions) -> io.TextIOBase:
    gz = options.compression == "gzip" or (options.compression == "auto" and path.suffix == ".gz")
    raw = gzip.open(path, "rb") if gz else open(path, "rb")  # noqa: SIM115 - wrapped and closed by caller
    return io.TextIOWrapper(raw, encoding=options.encoding, newline="")


def read_rows(pattern: str, options: CsvOptions, data_dir: Path) -> Iterator[Row]:
    """Every record of every matching file, with its header-keyed values; logs rows read and rows/s."""
    for path in resolve(pattern, data_dir):
        name = label(path, data_dir)
        started = time.perf_counter()
        count = 0
        with _open_text(path, options) as fh:
            reader = csv.reader(fh, delimiter=options.delimiter, quotechar=options.quotechar)
            header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
            if not header:
                raise ImportFileError(f"{name}: empty file (no header line)")
            first_line = reader.line_num + 1
            for record in reader:
                line, first_line = first_line, reader.line_num + 1
                if not record:  # a blank line is not a record
                    continue
                count += 1
                if len(record) != len(header):
                    problem = f"row has {len(record)} columns, the header has {len(header)}"
                    yield Row(name, line, dict(zip(header, record, strict=False)), problem)
                else:
                    yield Row(name, line, dict(zip(header, record, strict=True)))
                if count % PROGRESS_EVERY == 0:
                    _progress(name, count, started)
        _progress(name, count, started, done=True)


def _progress(name: str, count: int, started: float, *, done: bool = False) -> None:
    elapsed = max(time.perf_counter() - started, 1e-9)
    log.info("%s: %s %d rows (%.0f rows/s)", name, "read" if done else "reading,", count, count / elapsed)


def read_lookup(lookup: Lookup, data_dir: Path) -> tuple[str, dict[str, dict[str, str]]]:
    """A lookup file as key → the wanted columns, and the file label reasons use."""
    table: dict[str, dict[str, str]] = {}
    name = lookup.path
    for row in read_rows(lookup.path, lookup.csv, data_dir):
        name = row.file
        if row.problem is not None:
            continue  # an unreadable lookup row just means its key is not found
        missing = [c for c in (lookup.key, *lookup.columns) if c not in row.values]
        if missing:
            raise ImportFileError(f"{row.file}: lookup columns {missing} are not in the header")
        table[row.values[lookup.key]] = {c: row.values[c] for c in lookup.columns}
    return name, table
