"""Per-source channel profiles for the order-item job: which vocabularies an ODS order source speaks.

Every ODS order source (the SP-API-style Orders connector, and each file-export importer) lands the same
record shape under ``ods/<source>/order/``; what differs is its status vocabulary, its marketplace ids
and whether its ids are its own. A profile says that, so one job builds DWD from all of them.

**Ids.** DWD ``order_item`` is one table with one key (``ds``, ``order_item_id``) for every source.
Imported ids are whatever the export used (UCI invoice numbers are bare numbers such as ``536365``, and
their item ids ``536365-1``), so nothing stops them from colliding with an Amazon id. Imported sources
therefore get a deterministic prefix, ``<source>:``, on both ``order_id`` and ``order_item_id``
(``olist:e481f51c…-1``, ``uci_online_retail:536365-1``). The API source keeps its ids unprefixed, as
before, so existing rows and joins stay valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from spark_jobs.marketplaces import AMAZON_MARKETPLACES, OLIST_MARKETPLACES, UCI_ONLINE_RETAIL_MARKETPLACES
from spark_jobs.statuses import AMAZON, status_map

NATIVE_STATUS_FIELD = "ChannelOrderStatus"


@dataclass(frozen=True)
class ChannelProfile:
    """How to conform one ODS order source.

    ``statuses`` maps ``OrderStatus`` (the SP-API vocabulary every source lands). When the source keeps
    its own, finer status in ``ChannelOrderStatus``, ``native_statuses`` maps that instead, for every
    record that carries it (``OrderStatus`` is the fallback for records that do not).
    """

    source: str  # ODS source name: ods/<source>/order/ds=…
    channel: str  # status vocabulary name, for messages (spark_jobs/statuses.py)
    marketplaces: Mapping[str, str]
    statuses: Mapping[str, str]
    native_statuses: Mapping[str, str] | None = None
    id_prefix: str = ""  # prepended to order_id and order_item_id in DWD

    def __post_init__(self) -> None:
        if self.id_prefix and not self.id_prefix.endswith(":"):
            raise ValueError(f"id prefix {self.id_prefix!r} of source {self.source!r} must end with ':'")


API_SOURCE = "orders"

PROFILES: Mapping[str, ChannelProfile] = MappingProxyType(
    {
        API_SOURCE: ChannelProfile(
            source=API_SOURCE,
            channel="amazon",
            marketplaces=AMAZON_MARKETPLACES,
            statuses=status_map("amazon"),
        ),
        "olist": ChannelProfile(
            source="olist",
            channel="olist",
            marketplaces=OLIST_MARKETPLACES,
            statuses=AMAZON,  # the importer's SP-API OrderStatus, only if ChannelOrderStatus is missing
            native_statuses=status_map("olist"),
            id_prefix="olist:",
        ),
        "uci_online_retail": ChannelProfile(
            source="uci_online_retail",
            channel="amazon",  # the importer lands Shipped / Canceled: the SP-API vocabulary
            marketplaces=UCI_ONLINE_RETAIL_MARKETPLACES,
            statuses=AMAZON,
            id_prefix="uci_online_retail:",
        ),
    }
)


class UnknownSourceError(KeyError):
    """An ODS source with no channel profile."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def profile_for(source: str) -> ChannelProfile:
    try:
        return PROFILES[source]
    except KeyError:
        raise UnknownSourceError(
            f"no channel profile for ODS source {source!r}; known: {sorted(PROFILES)}; "
            "add one to spark_jobs/channels.py"
        ) from None
