"""Data docs: every gate run rendered as a static HTML page under ``$MERCATOR_HOME/gx_docs/``.

GX's own site builder needs a file-backed context whose stores every concurrent Airflow task would
share; one self-contained page per (layer, entity, ds) plus an index rebuilt from small JSON sidecars
needs nothing shared, works from disk and survives reruns (a rerun replaces its page).
"""

from __future__ import annotations

import html
import json
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from ops.quality.engine import Failure, Outcome, show
from ops.settings import Settings

DOCS_FOLDER = "gx_docs"
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    ".ok{color:#17702b}.fail{color:#b00020;font-weight:600}code{font-size:90%}"
)


def docs_dir(settings: Settings) -> Path:
    return settings.home / DOCS_FOLDER


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def _write_atomic(path: Path, text: str) -> None:
    """Readers (a browser, a concurrent index rebuild) never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _row(outcome: Outcome) -> str:
    status = '<span class="ok">passed</span>' if outcome.success else '<span class="fail">FAILED</span>'
    kwargs = {k: v if isinstance(v, str) else show(v) for k, v in outcome.check.kwargs.items()}
    detail = outcome.failure.describe() if outcome.failure else (outcome.observed or "")
    return (
        f"<tr><td>{status}</td><td>{html.escape(outcome.check.label)}</td>"
        f"<td><code>{html.escape(outcome.expectation)}</code></td>"
        f"<td><code>{html.escape(json.dumps(kwargs))}</code></td><td>{html.escape(detail)}</td></tr>"
    )


def _extra_row(failure: Failure) -> str:
    return (
        f'<tr><td><span class="fail">FAILED</span></td><td>{html.escape(failure.check)}</td>'
        f"<td><code>{html.escape(failure.expectation)}</code></td><td></td>"
        f"<td>{html.escape(failure.describe())}</td></tr>"
    )


def write_page(
    settings: Settings,
    layer: str,
    name: str,
    ds: date,
    rows: int,
    outcomes: Sequence[Outcome],
    extra_failures: Sequence[Failure] = (),
) -> Path:
    """Render one validation (GX outcomes plus checks that ran before GX could) and refresh the index."""
    root = docs_dir(settings)
    success = all(o.success for o in outcomes) and not extra_failures
    title = f"{layer} {name} ds={ds.isoformat()}"
    page = root / _slug(layer.lower()) / _slug(name) / f"ds={ds.isoformat()}.html"
    body = "".join([*(_extra_row(f) for f in extra_failures), *(_row(o) for o in outcomes)])
    checked_at = datetime.now(UTC).isoformat(timespec="seconds")
    _write_atomic(
        page,
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><style>{STYLE}</style>"
        f"<p><a href='../../index.html'>all validations</a></p><h1>{html.escape(title)}</h1>"
        f"<p>{rows} rows · {'passed' if success else 'FAILED'} · checked {checked_at}</p>"
        "<table><tr><th>result</th><th>check</th><th>expectation</th><th>arguments</th>"
        f"<th>observed</th></tr>{body}</table>",
    )
    sidecar = {"title": title, "success": success, "checked_at": checked_at, "rows": rows}
    _write_atomic(page.with_suffix(".json"), json.dumps(sidecar))
    _write_index(root)
    return page


def _write_index(root: Path) -> None:
    entries = []
    for sidecar in sorted(root.glob("*/*/ds=*.json"), reverse=True):
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # being replaced by a concurrent task; the next rebuild lists it
            continue
        link = sidecar.with_suffix(".html").relative_to(root).as_posix()
        status = '<span class="ok">passed</span>' if meta["success"] else '<span class="fail">FAILED</span>'
        entries.append(
            f"<tr><td>{status}</td><td><a href='{html.escape(link)}'>{html.escape(meta['title'])}</a></td>"
            f"<td>{meta['rows']}</td><td>{html.escape(meta['checked_at'])}</td></tr>"
        )
    _write_atomic(
        root / "index.html",
        f"<!doctype html><meta charset='utf-8'><title>Mercator data docs</title><style>{STYLE}</style>"
        "<h1>Mercator data quality: Great Expectations validations</h1>"
        "<table><tr><th>result</th><th>validation</th><th>rows</th><th>checked at (UTC)</th></tr>"
        f"{''.join(entries)}</table>",
    )
