"""Where lake data lives: ODS, quarantine and DWD paths under ``LAKE_URI`` (file:// or s3a://)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname


@dataclass(frozen=True)
class Lake:
    """Path arithmetic for the lake; one object so no module builds paths by hand."""

    root_uri: str

    def _join(self, *parts: str) -> str:
        return "/".join([self.root_uri.rstrip("/"), *parts])

    def ods_partition(self, source: str, entity: str, ds: date) -> str:
        return self._join("ods", source, entity, f"ds={ds.isoformat()}")

    def ods_quarantine(self, source: str, entity: str, ds: date) -> str:
        return self._join("ods", "_quarantine", source, entity, f"ds={ds.isoformat()}")

    def dwd_table(self, entity: str) -> str:
        return self._join("dwd", entity)

    def dwd_partition(self, entity: str, ds: date) -> str:
        return self._join("dwd", entity, f"ds={ds.isoformat()}")

    @property
    def is_local(self) -> bool:
        return urlsplit(self.root_uri).scheme in ("", "file")


def local_path(uri: str) -> Path:
    """The filesystem path of a file:// URI; other schemes are an error, not a silent local write."""
    parts = urlsplit(uri)
    if parts.scheme not in ("", "file"):
        raise ValueError(
            f"{uri!r} is not on the local filesystem; use a filesystem client for {parts.scheme}://"
        )
    return Path(url2pathname(parts.path)) if parts.scheme else Path(uri)
