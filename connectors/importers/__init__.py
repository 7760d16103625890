"""File-export importers: CSV exports (Olist, UCI Online Retail, your own) landed as ODS order records.

A TOML mapping file says how columns become SP-API-style order fields; ``import_export`` lands each
purchase day through the same atomic ``land_day`` as the API connectors. See README.md here.
"""

from connectors.importers.importer import MAPPINGS_DIR, import_export
from connectors.importers.mapping import ImportMapping, MappingError, load_mapping

__all__ = ["MAPPINGS_DIR", "ImportMapping", "MappingError", "import_export", "load_mapping"]
