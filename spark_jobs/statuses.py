"""Channel order statuses mapped into the one DWD state machine (DESIGN.md §4).

pending → paid → shipped → delivered → completed, with cancelled and after_sale branches. A status
missing from a channel's map is a hard error in the job: a silent null would drop orders from every
downstream mart without anyone noticing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

UNIFIED_STATUSES: tuple[str, ...] = (
    "pending",
    "paid",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "after_sale",
)

# SP-API OrderStatus values. Amazon has no delivered/completed/after-sale order status: those come
# from tracking events and refunds, which later jobs merge in.
AMAZON: Mapping[str, str] = MappingProxyType(
    {
        "PendingAvailability": "pending",  # pre-order, payment not yet authorised
        "Pending": "pending",  # placed, payment not yet authorised
        "Unshipped": "paid",  # payment authorised, awaiting dispatch
        "PartiallyShipped": "paid",  # not all items dispatched: still counts as awaiting dispatch
        "Shipped": "shipped",
        "InvoiceUnconfirmed": "shipped",  # all items shipped, invoice confirmation pending
        "Canceled": "cancelled",
        "Unfulfillable": "cancelled",  # cannot be fulfilled (e.g. digital orders outside the US)
    }
)

# Olist ``order_status`` values, as the Olist importer keeps them in ``ChannelOrderStatus`` (its
# ``OrderStatus`` is the closest SP-API value, which cannot say "delivered").
OLIST: Mapping[str, str] = MappingProxyType(
    {
        "created": "pending",  # placed, payment not yet approved
        "approved": "paid",
        "invoiced": "paid",  # invoice issued, being prepared
        "processing": "paid",
        "shipped": "shipped",  # handed to the carrier
        "delivered": "delivered",
        "canceled": "cancelled",
        "unavailable": "cancelled",  # the seller could not fulfil it
    }
)

CHANNEL_STATUS_MAPS: Mapping[str, Mapping[str, str]] = MappingProxyType({"amazon": AMAZON, "olist": OLIST})


class UnknownStatusError(ValueError):
    """A channel status with no mapping; the message names source, ODS partition and order."""


def status_map(channel: str) -> Mapping[str, str]:
    """The status map of one channel; an unknown channel is a programming error, said plainly."""
    try:
        return CHANNEL_STATUS_MAPS[channel]
    except KeyError:
        raise KeyError(
            f"no status map for channel {channel!r}; known: {sorted(CHANNEL_STATUS_MAPS)}"
        ) from None


def _check_maps() -> None:
    for channel, mapping in CHANNEL_STATUS_MAPS.items():
        bad = {status: unified for status, unified in mapping.items() if unified not in UNIFIED_STATUSES}
        if bad:
            raise AssertionError(f"{channel} maps into statuses outside the state machine: {bad}")


_check_maps()
