"""Amazon marketplace ids → the short marketplace code DWD and the marts use."""

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


class UnknownMarketplaceError(ValueError):
    """A marketplace id with no mapping; the message names source, ODS partition and order."""
