"""Every source the connectors can ingest, in one place: the DAG maps one task over ``SOURCES``.

Adding a source is one small module declaring its endpoints and a ``SPEC``, plus one line here.
"""

from __future__ import annotations

from connectors import ads, asin_metrics, catalog, crm, logistics, reviews, shop_health
from connectors.orders import SOURCE as ORDERS
from connectors.rest import SourceSpec

SPECS: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        catalog.SPEC,
        asin_metrics.SPEC,
        reviews.SPEC,
        logistics.SPEC,
        shop_health.SPEC,
        ads.SPEC,
        crm.SPEC,
    )
}
SOURCES: tuple[str, ...] = (ORDERS, *SPECS)  # orders keeps its own entry point, ingest_orders_day


def spec(source: str) -> SourceSpec:
    """The spec of a REST source (not ``orders``), or a KeyError listing the known sources."""
    try:
        return SPECS[source]
    except KeyError:
        raise KeyError(f"unknown source {source!r}; known: {', '.join(SOURCES)}") from None
