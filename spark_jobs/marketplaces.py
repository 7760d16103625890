"""Marketplace ids → the short marketplace code DWD and the marts use, per channel.

Imported shops get codes of their own, never an Amazon one: UCI Online Retail is a UK shop but not
Amazon UK, so it is ``GB-UCI`` and its sales never merge into the ``UK`` marketplace's marts.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

AMAZON_MARKETPLACES: Mapping[str, str] = MappingProxyType(
    {
        "ATVPDKIKX0DER": "US",
        "A1F83G8C2ARO7P": "UK",
        "A2EUQ1WTGCTBG2": "CA",
        "A1PA6795UKMFR9": "DE",
        "A1VC38T7YXB528": "JP",
    }
)

# The MarketplaceId the file-export importers stamp on every record (connectors/importers/mappings).
OLIST_MARKETPLACES: Mapping[str, str] = MappingProxyType({"OLIST-BR": "BR"})
UCI_ONLINE_RETAIL_MARKETPLACES: Mapping[str, str] = MappingProxyType({"UCI-UK": "GB-UCI"})


class UnknownMarketplaceError(ValueError):
    """A marketplace id with no mapping; the message names source, ODS partition and order."""
