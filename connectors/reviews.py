"""The reviews source: ``review`` records posted in a window (``postedAfter``/``postedBefore``).

Review text is kept exactly as received in ODS; validation reasons name fields only. Declaring does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.http import ApiClient
from connectors.orders import DEFAULT_MARKETPLACE_IDS
from connectors.record_schema import RecordSchema, any_text, boolean, integer, text, timestamp
from connectors.rest import PAGE_SIZE, Endpoint, SourceSpec, paged_resource
from connectors.source import Source, Window, iso_z

SOURCE = "reviews"
REVIEW = Endpoint(
    entity="review",
    path="/reviews/v1/reviews",
    list_key="reviews",
    primary_key=("reviewId",),
    cursor_field="postedAt",
    schema=RecordSchema(
        version=1,
        fields={
            "reviewId": text(),
            "asin": text(),
            "marketplaceId": text(),
            "rating": integer(minimum=1, maximum=5),
            "title": any_text(),
            "text": any_text(),
            "language": text().or_null(),
            "verifiedPurchase": boolean(),
            "amazonOrderId": text().optional().or_null(),
            "postedAt": timestamp(),
            "helpfulVotes": integer(minimum=0).optional(),
        },
    ),
)


def reviews_source(
    client: ApiClient,
    window: Window,
    marketplace_ids: Sequence[str] = DEFAULT_MARKETPLACE_IDS,
    page_size: int = PAGE_SIZE,
) -> Source:
    """Declare ``review`` for reviews posted in ``window`` across ``marketplace_ids``."""
    if not marketplace_ids:
        raise ValueError("reviews_source needs at least one marketplace id")
    params = {
        "marketplaceIds": ",".join(sorted(marketplace_ids)),
        "postedAfter": iso_z(window.start),
        "postedBefore": iso_z(window.end),
        "pageSize": str(page_size),
    }
    review = paged_resource(client, REVIEW, params, interval=str(window))
    return Source(name=SOURCE, resources=(review,))


SPEC = SourceSpec(SOURCE, reviews_source, per_marketplace=True, windowed=True)
