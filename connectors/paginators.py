"""Paginators: small classes that know where a page's records and next-page token live."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from connectors.source import Page

Fetch = Callable[[Mapping[str, str]], tuple[Any, int]]


class Paginator(Protocol):
    def paginate(self, fetch: Fetch, params: Mapping[str, str]) -> Iterator[Page]:
        """Yield pages; ``fetch(params)`` returns (parsed body, requests it took)."""
        ...


class PaginationError(RuntimeError):
    """The API's pagination went wrong (a repeated token, records not where they should be)."""


def _dig(body: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(body, Mapping) or key not in body:
            return None
        body = body[key]
    return body


@dataclass(frozen=True)
class NextTokenPaginator:
    """SP-API style: follow ``payload.NextToken`` until it is absent; repeat ``keep_params`` on every page."""

    records_path: tuple[str, ...] = ("payload", "Orders")
    token_path: tuple[str, ...] = ("payload", "NextToken")
    token_param: str = "NextToken"
    keep_params: tuple[str, ...] = ("MarketplaceIds",)

    def paginate(self, fetch: Fetch, params: Mapping[str, str]) -> Iterator[Page]:
        """Yield pages; ``fetch(params)`` returns (parsed body, requests it took)."""
        first = dict(params)
        request = first
        seen: set[str] = set()
        number = 0
        while True:
            body, requests = fetch(request)
            records = _dig(body, self.records_path)
            if not isinstance(records, list):
                raise PaginationError(f"page {number}: no list at {'.'.join(self.records_path)}")
            yield Page(number=number, records=records, requests=requests)
            token = _dig(body, self.token_path)
            if not token:
                return
            if token in seen:
                raise PaginationError(f"page {number}: NextToken repeated; the API would loop forever")
            seen.add(token)
            number += 1
            request = {k: first[k] for k in self.keep_params if k in first} | {self.token_param: token}


@dataclass(frozen=True)
class PageTokenPaginator:
    """Catalog Items 2022-04-01 style: ``{"numberOfResults", "pagination": {"nextToken"}, "<list>": [...]}``.

    Follows ``pagination.nextToken`` as ``pageToken`` (repeating ``keep_params``, e.g. ``marketplaceIds`` and
    ``pageSize``) until it is absent, then checks that the pages held exactly ``numberOfResults`` records,
    so a page skipped or truncated anywhere is an error instead of a silent loss.
    """

    list_key: str
    token_param: str = "pageToken"
    keep_params: tuple[str, ...] = ("marketplaceIds", "pageSize")

    def paginate(self, fetch: Fetch, params: Mapping[str, str]) -> Iterator[Page]:
        """Yield pages; ``fetch(params)`` returns (parsed body, requests it took)."""
        first = dict(params)
        request = first
        seen: set[str] = set()
        number = received = 0
        announced: int | None = None
        while True:
            body, requests = fetch(request)
            records = _dig(body, (self.list_key,))
            if not isinstance(records, list):
                raise PaginationError(f"page {number}: no list at {self.list_key}")
            total = _dig(body, ("numberOfResults",))
            if isinstance(total, int) and not isinstance(total, bool):
                if announced is not None and total != announced:
                    raise PaginationError(
                        f"page {number}: numberOfResults changed from {announced} to {total}"
                    )
                announced = total
            received += len(records)
            yield Page(number=number, records=records, requests=requests)
            token = _dig(body, ("pagination", "nextToken"))
            if not token:
                break
            if token in seen:
                raise PaginationError(f"page {number}: nextToken repeated; the API would loop forever")
            seen.add(token)
            number += 1
            request = {k: first[k] for k in self.keep_params if k in first} | {self.token_param: token}
        if announced is not None and received != announced:
            raise PaginationError(
                f"{number + 1} page(s) held {received} records but the API announced {announced}"
            )
