"""Shared plumbing of the REST sources: a paged endpoint declared as a resource, and a source's spec.

A source module declares its endpoints (path, list key, primary key, cursor field, schema) and a source
function that turns one window into resources; ``paged_resource`` does the paging, and ``SourceSpec`` is
what the registry and ``ingest_source_day`` need to run it. Declaring does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from connectors.http import ApiClient
from connectors.paginators import PageTokenPaginator, Paginator
from connectors.record_schema import RecordSchema
from connectors.source import Page, Resource, Source, Window

PAGE_SIZE = 100
ALL_MARKETPLACES = "*"  # cursor scope of sources that are not requested per marketplace


@dataclass(frozen=True)
class Endpoint:
    """One paged endpoint and the entity it serves."""

    entity: str
    path: str
    list_key: str
    primary_key: tuple[str, ...]
    cursor_field: str  # an updated-at style field, or the snapshot date of daily endpoints
    schema: RecordSchema

    def __post_init__(self) -> None:
        missing = [k for k in (*self.primary_key, self.cursor_field) if k not in self.schema.fields]
        if missing:
            raise ValueError(f"{self.entity}: key/cursor fields {missing} are not in its schema")
        if any(not self.schema.fields[k].required for k in self.primary_key):
            raise ValueError(f"{self.entity}: primary key fields must be required")


def paged_resource(
    client: ApiClient,
    endpoint: Endpoint,
    params: Mapping[str, str],
    *,
    interval: str,
    keep_params: tuple[str, ...] = ("marketplaceIds", "pageSize"),
    paginator: Paginator | None = None,
) -> Resource:
    """Declare ``endpoint`` as a resource whose pages are fetched lazily with ``params``.

    Pages follow ``paginator`` (default: Catalog Items style ``pagination.nextToken`` under the endpoint's
    ``list_key``, repeating ``keep_params``).
    """
    paginator = paginator or PageTokenPaginator(endpoint.list_key, keep_params=keep_params)

    def fetch(request: Mapping[str, str]) -> tuple[Any, int]:
        response = client.get(endpoint.path, request, interval=interval)
        return response.body, response.attempts

    def pages() -> Iterator[Page]:
        for page in paginator.paginate(fetch, dict(params)):
            client.add_records(len(page.records))
            yield page

    return Resource(
        name=endpoint.entity,
        primary_key=endpoint.primary_key,
        cursor_field=endpoint.cursor_field,
        schema_version=endpoint.schema.version,
        pages=pages,
        validate=endpoint.schema.validate,
        known_fields=endpoint.schema.known_fields,
    )


SourceBuilder = Callable[[ApiClient, Window, Sequence[str]], Source]


@dataclass(frozen=True)
class SourceSpec:
    """How to run one source for a day: its builder, whether it is per marketplace, its default rate.

    ``requests_per_second`` is the client's starting pace per endpoint (settings may override it per
    source); the client slows further to the API's advertised ``x-amzn-RateLimit-Limit``.
    ``windowed``: the API is asked for a time window (not a snapshot date), so a long interval can be
    split into slices. ``lookback``: its records change after they were first served (an updated-at
    cursor), so each run asks again for the hours before its day; DWD keeps the latest version.
    """

    name: str
    build: SourceBuilder
    per_marketplace: bool
    requests_per_second: float = 20.0
    windowed: bool = False
    lookback: bool = False

    def __post_init__(self) -> None:
        if self.lookback and not self.windowed:
            raise ValueError(f"{self.name}: a look-back needs a windowed source")

    def cursor_scopes(self, marketplace_ids: Sequence[str]) -> tuple[str, ...]:
        return tuple(marketplace_ids) if self.per_marketplace else (ALL_MARKETPLACES,)

    def fetch_window(self, day: Window, lookback_hours: float) -> Window:
        """The window a run of ``day`` asks the API for: the day, plus the look-back when it applies."""
        return day.looking_back(lookback_hours) if self.lookback and lookback_hours else day

    def build_sliced(
        self, client: ApiClient, window: Window, marketplace_ids: Sequence[str], max_slice_hours: float
    ) -> Source:
        """The source over ``window``, requested slice by slice when windowed; one resource per entity."""
        if not self.windowed:
            return self.build(client, window, marketplace_ids)
        parts = [self.build(client, part, marketplace_ids) for part in window.slices(max_slice_hours)]
        if len(parts) == 1:
            return parts[0]
        resources = tuple(
            _chained([part.resources[i] for part in parts]) for i in range(len(parts[0].resources))
        )
        return Source(name=self.name, resources=resources)


def _chained(resources: Sequence[Resource]) -> Resource:
    """One resource whose pages are those of ``resources`` in order, numbered on across slices."""

    def pages() -> Iterator[Page]:
        number = 0
        for resource in resources:
            for page in resource.pages():
                yield replace(page, number=number)
                number += 1

    return replace(resources[0], pages=pages)
