"""Every source the connectors can ingest, in one place: the DAG has one ingest task per ``SOURCES``.

Adding a source is one small module declaring its endpoints and a ``SPEC``, plus one line here.
"""

from __future__ import annotations

from connectors import ads, asin_metrics, catalog, crm, finances, logistics, orders, reviews, shop_health
from connectors.rest import SourceSpec

SPECS: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        orders.SPEC,
        catalog.SPEC,
        asin_metrics.SPEC,
        reviews.SPEC,
        logistics.SPEC,
        shop_health.SPEC,
        ads.SPEC,
        crm.SPEC,
        finances.SPEC,
    )
}
SOURCES: tuple[str, ...] = tuple(SPECS)


API_POOL_SLOTS = 1  # one task per API at a time: the client's rate budget is per process, not shared


def api_pool(source: str) -> str:
    """The Airflow pool of a source's API, so concurrent DAG runs and backfills share its one budget."""
    return f"api_{source}"


def spec(source: str) -> SourceSpec:
    """The spec of a source, or a KeyError listing the known sources."""
    try:
        return SPECS[source]
    except KeyError:
        raise KeyError(f"unknown source {source!r}; known: {', '.join(SOURCES)}") from None
