"""``python -m connectors.importers MAPPING [--start D] [--end D] [--data-dir DIR]``: land a file export."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from connectors.importers.importer import DEFAULT_DATA_DIR, import_export, resolve_mapping
from ops.settings import Settings, get_settings


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.importers", description=__doc__)
    parser.add_argument("mapping", type=resolve_mapping, help="mapping file, or olist / uci_online_retail")
    parser.add_argument(
        "--start", type=date.fromisoformat, help="first purchase day (default: first in file)"
    )
    parser.add_argument("--end", type=date.fromisoformat, help="last purchase day (default: last in file)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where mapping paths point")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    manifests = import_export(
        settings or get_settings(), args.mapping, args.start, args.end, data_dir=args.data_dir
    )
    landed = sum(m.records_landed for m in manifests)
    quarantined = sum(m.records_quarantined for m in manifests)
    print(f"imported {len(manifests)} days: {landed} orders landed, {quarantined} records quarantined")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
