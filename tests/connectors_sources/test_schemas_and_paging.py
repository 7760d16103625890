"""Record schemas (reasons, drift, strict mode) and the pageToken paginator's loss checks."""

from __future__ import annotations

import gzip
from datetime import date

import orjson
import pytest

from connectors.asin_metrics import ASIN_DAILY_SNAPSHOT
from connectors.catalog import CATALOG_ITEM
from connectors.crm import CAMPAIGN_EXPOSURE
from connectors.landing import land_day
from connectors.logistics import SHIPMENT
from connectors.paginators import PageTokenPaginator, PaginationError
from connectors.record_schema import RecordSchema, integer, text
from connectors.rest import Endpoint
from connectors.shop_health import SHOP_HEALTH_DAILY
from connectors.source import Page
from storage.lake import Lake, local_path
from tests.connectors_sources.sandbox_truth import SEED, truth_records

DS = date(2025, 11, 5)
MPS = ("ATVPDKIKX0DER", "A1F83G8C2ARO7P")


def test_reasons_name_the_field_and_never_the_value():
    snapshot = truth_records("asin_daily_snapshot", SEED, DS, MPS)[0]
    validate = ASIN_DAILY_SNAPSHOT.schema.validate
    assert validate(snapshot) is None
    assert validate({k: v for k, v in snapshot.items() if k != "asin"}) == "missing asin"
    assert validate({**snapshot, "bsr": "-"}) == "bsr is not an integer >= 1"
    assert validate({**snapshot, "sessions": -1}) == "sessions is not an integer >= 0"
    assert validate({**snapshot, "inStock": 1}) == "inStock is not a boolean"
    assert validate([snapshot]) == "record is not a JSON object"
    item = truth_records("catalog_item", SEED, DS, MPS)[0]
    assert CATALOG_ITEM.schema.validate(item) is None
    broken = {**item, "listPrice": {**item["listPrice"], "amount": "N/A"}}
    assert CATALOG_ITEM.schema.validate(broken) == "listPrice.amount is not a decimal string"
    exposure = truth_records("campaign_exposure", SEED, DS, MPS)[0]
    reason = CAMPAIGN_EXPOSURE.schema.validate({**exposure, "variant": None})
    assert reason == "variant is null" and exposure["customer_id"] not in reason
    shipment = truth_records("shipment", SEED, DS, MPS)[0]
    assert SHIPMENT.schema.validate({**shipment, "promised_delivery_at": 0}) == (
        "promised_delivery_at is not an ISO 8601 date-time with zone"
    )


def test_endpoint_declarations_reject_keys_outside_the_schema():
    schema = RecordSchema(version=1, fields={"id": text(), "n": integer().optional()})
    with pytest.raises(ValueError, match="not in its schema"):
        Endpoint("thing", "/x", "things", ("thing_id",), "id", schema)
    with pytest.raises(ValueError, match="must be required"):
        Endpoint("thing", "/x", "things", ("n",), "id", schema)


def test_added_fields_are_drift_not_errors_unless_strict(settings, tmp_path):
    run_settings = settings.model_copy(update={"lake_uri_override": (tmp_path / "lake").as_uri()})
    records = truth_records("shop_health_daily", SEED, DS, MPS)
    drifted = [{**records[0], "badge": "gold"}, *records[1:]]
    endpoint = SHOP_HEALTH_DAILY

    def land(schema: RecordSchema):
        return land_day(
            run_settings, "shop_health", endpoint.entity, DS, [Page(0, drifted)],
            primary_key=endpoint.primary_key, cursor_field=endpoint.cursor_field,
            schema_version=schema.version, validate=schema.validate, known_fields=schema.known_fields,
        )  # fmt: skip

    manifest = land(endpoint.schema)
    assert manifest.drift == ("badge",) and manifest.records_landed == len(records)
    partition = local_path(Lake(run_settings.lake_uri).ods_partition("shop_health", endpoint.entity, DS))
    with gzip.open(partition / "part-00000.jsonl.gz", "rb") as fh:
        assert orjson.loads(fh.readline())["badge"] == "gold"  # landed exactly as received

    strict = RecordSchema(version=2, fields=endpoint.schema.fields, strict=True)
    manifest = land(strict)
    assert manifest.quarantine_reasons == {"unknown field badge": 1}
    assert manifest.records_landed == len(records) - 1 and manifest.schema_version == 2


def _fetcher(pages: list[dict]):
    seen: list[dict] = []

    def fetch(params):
        seen.append(dict(params))
        token = params.get("pageToken")
        return pages[int(token) if token else 0], 1

    return fetch, seen


def test_page_token_paginator_follows_tokens_and_detects_lost_records():
    pages = [
        {"numberOfResults": 3, "pagination": {"nextToken": "1"}, "rows": [{"id": 1}, {"id": 2}]},
        {"numberOfResults": 3, "pagination": {}, "rows": [{"id": 3}]},
    ]
    fetch, seen = _fetcher(pages)
    got = list(PageTokenPaginator("rows").paginate(fetch, {"date": "2025-11-05", "pageSize": "2"}))
    assert [r["id"] for p in got for r in p.records] == [1, 2, 3]
    assert seen == [{"date": "2025-11-05", "pageSize": "2"}, {"pageSize": "2", "pageToken": "1"}]

    short = [pages[0], {"numberOfResults": 3, "pagination": {}, "rows": []}]
    with pytest.raises(PaginationError, match="held 2 records but the API announced 3"):
        list(PageTokenPaginator("rows").paginate(_fetcher(short)[0], {}))
    looping = [{"numberOfResults": 9, "pagination": {"nextToken": "0"}, "rows": [{"id": 1}]}]
    with pytest.raises(PaginationError, match="repeated"):
        list(PageTokenPaginator("rows").paginate(_fetcher(looping)[0], {}))
    with pytest.raises(PaginationError, match="no list at rows"):
        list(PageTokenPaginator("rows").paginate(_fetcher([{"errors": []}])[0], {}))
