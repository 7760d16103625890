"""Catalog items (SP-API Catalog Items 2022-04-01 style), one record per (asin, marketplace) and version.

A listing changes a few times over the calendar (price, title, images, a pre-breakout upgrade), each change
a new version with its ``lastUpdatedDate``, so a DWD can keep the history of a slowly changing dimension.
Each record also carries the landed ``unitCost`` (same currency as ``listPrice``), the
``fulfillmentChannel`` (FBA / FBM / DROP_SHIP) and ``isSample`` (see ``products``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from connectors.sandbox.orders import iso_z, money
from connectors.sandbox.population import catalog
from connectors.sandbox.products import (
    BRANDS,
    FULFILLMENT_CHANNELS,
    TAXONOMY,
    Listing,
    listing_as_of,
    products,
    unit_cost_cents,
)
from connectors.sandbox.profiles import Marketplace, get_profile


def _record(
    asin: str,
    mp: Marketplace,
    listing: Listing,
    leaf: int,
    brand: int,
    launch: str,
    cents: int,
    cost_cents: int,
    channel: str,
    is_sample: bool,
) -> dict:
    top, sub, _nouns, _parts = TAXONOMY[leaf]
    return {
        "asin": asin,
        "marketplaceId": mp.marketplace_id,
        "lastUpdatedDate": iso_z(listing.updated_at),
        "version": listing.version,
        "summaries": {
            "itemName": listing.title,
            "brand": BRANDS[brand],
            "browseClassification": {"classificationId": f"{1_000 + leaf * 37}", "displayName": sub},
            "categoryPath": [top, sub],
            "releaseDate": launch,
        },
        "listPrice": {
            "amount": money(int(cents * listing.price_factor) // 100 * 100 + 99),
            "currencyCode": mp.currency,
        },
        "unitCost": {"amount": money(cost_cents), "currencyCode": mp.currency},
        "fulfillmentChannel": channel,
        "isSample": is_sample,
        "listingQuality": {
            "imageCount": listing.image_count,
            "bulletPointCount": listing.bullet_count,
            "hasAPlusContent": listing.has_aplus,
            "titleLength": len(listing.title),
        },
    }


def catalog_versions(
    seed: int,
    after: int | None,
    before: int,
    profile_name: str = "small",
    marketplace_ids: Iterable[str] | None = None,
) -> list[dict]:
    """Each (asin, marketplace) whose listing changed in [after, before), as of its latest change there.

    ``after=None`` gives the whole catalog as of ``before``. Sorted by (lastUpdatedDate, asin, marketplace).
    """
    profile = get_profile(profile_name)
    p = products(seed, profile_name)
    cat = catalog(seed, profile_name)
    wanted = set(marketplace_ids) if marketplace_ids is not None else None
    costs = unit_cost_cents(p, cat.price_cents)
    keyed = []
    for i, asin in enumerate(p.asin):
        listing = listing_as_of(p, i, before - 1)
        if listing is None or (after is not None and listing.updated_at < after):
            continue
        launch = date.fromordinal(int(p.launch_ord[i])).isoformat()
        for j, mp in enumerate(profile.marketplaces):
            if wanted is None or mp.marketplace_id in wanted:
                record = _record(
                    asin,
                    mp,
                    listing,
                    int(p.leaf[i]),
                    int(p.brand[i]),
                    launch,
                    int(cat.price_cents[j, i]),
                    int(costs[j, i]),
                    FULFILLMENT_CHANNELS[int(p.fulfillment[i])],
                    bool(p.is_sample[i]),
                )
                keyed.append((listing.updated_at, asin, mp.marketplace_id, record))
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]
