"""Every DWD entity in one place: what the pipeline builds, the DWD gate checks and the benches measure.

Two kinds: the order entities (``order_item`` and its header ``orders``), built by one job for every order
channel source (:mod:`spark_jobs.channels`: the Orders API and each file importer), and the flat entities,
one :class:`~spark_jobs.entity_spec.EntitySpec` each. Adding a flat entity is its spec module plus one
line here; the gate's suite is derived from the spec.
"""

from __future__ import annotations

from collections.abc import Iterable

from spark_jobs import (
    ad_campaign_hourly,
    asin_daily_snapshot,
    campaign_exposure,
    catalog_item,
    refund,
    review,
    shipment,
    shop_health_daily,
    tracking_event,
)
from spark_jobs.channels import PROFILES
from spark_jobs.entity_spec import EntitySpec

ORDER_ITEM, ORDER_HEADER = "order_item", "orders"  # ``order`` is an SQL reserved word
ORDER_ENTITIES: tuple[str, ...] = (ORDER_ITEM, ORDER_HEADER)

# In build order: the look-back and SCD2 jobs last (they rewrite more than their own day).
FLAT_SPECS: tuple[EntitySpec, ...] = (
    asin_daily_snapshot.SPEC,
    review.SPEC,
    shop_health_daily.SPEC,
    ad_campaign_hourly.SPEC,
    campaign_exposure.SPEC,
    tracking_event.SPEC,
    refund.SPEC,  # one row per refunded order line: explodes each event's ShipmentItemAdjustmentList
    shipment.SPEC,  # rebuilds its look-back window of created days
    catalog_item.SPEC,  # SCD2: also rewrites the partitions whose versions it closed
)
FLAT_ENTITIES: tuple[str, ...] = tuple(spec.entity for spec in FLAT_SPECS)
DWD_ENTITIES: tuple[str, ...] = ORDER_ENTITIES + FLAT_ENTITIES


def is_order_source(source: str) -> bool:
    """Whether ``source`` lands orders (``ods/<source>/order``) that the order-item job conforms."""
    return source in PROFILES


def flat_specs_of(sources: Iterable[str]) -> tuple[EntitySpec, ...]:
    """The flat entities whose ODS comes from one of ``sources``, in build order."""
    wanted = set(sources)
    return tuple(spec for spec in FLAT_SPECS if spec.source in wanted)
