"""Pages of list operations, and iteration across all of them.

`client.persons.list()` fetches the first page and returns a `SyncPage`; iterating it walks every item of every
page, fetching the next page only when the current one is used up. The async twin returns an `AsyncPaginator`:
`async for person in client.persons.list()` walks everything, `await client.persons.list()` gives the first page.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, Protocol, TypeVar

from og_records._generated.types import UNSET, Unset

__all__ = ["AsyncPage", "AsyncPaginator", "SyncPage"]

T = TypeVar("T")
T_item = TypeVar("T_item")


class ListBody(Protocol[T_item]):
    """What every `<Thing>List` model of the spec has (`ListMeta` + `data`)."""

    @property
    def data(self) -> list[T_item]: ...  # a list attribute of the generated attrs models
    @property
    def has_more(self) -> bool: ...
    @property
    def next_cursor(self) -> str | None: ...


class SyncPage(Generic[T]):
    def __init__(self, fetch: Callable[[str | Unset], ListBody[T]], cursor: str | Unset = UNSET) -> None:
        self._fetch = fetch
        self.body: ListBody[T] = fetch(cursor)

    @property
    def data(self) -> list[T]:
        """The items of this page only."""
        return self.body.data

    @property
    def has_more(self) -> bool:
        return self.body.has_more

    @property
    def next_cursor(self) -> str | None:
        return self.body.next_cursor

    def has_next_page(self) -> bool:
        return self.body.has_more and bool(self.body.next_cursor)

    def next_page(self) -> "SyncPage[T]":
        if not self.has_next_page():
            raise StopIteration("this is the last page")
        assert self.body.next_cursor is not None
        return SyncPage(self._fetch, self.body.next_cursor)

    def iter_pages(self) -> Iterator["SyncPage[T]"]:
        page = self
        yield page
        while page.has_next_page():
            page = page.next_page()
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data

    def __repr__(self) -> str:
        return f"<SyncPage items={len(self.data)} has_more={self.has_more}>"


class AsyncPage(Generic[T]):
    def __init__(self, fetch: Callable[[str | Unset], Awaitable[ListBody[T]]], body: ListBody[T]) -> None:
        self._fetch = fetch
        self.body = body

    @property
    def data(self) -> list[T]:
        return self.body.data

    @property
    def has_more(self) -> bool:
        return self.body.has_more

    @property
    def next_cursor(self) -> str | None:
        return self.body.next_cursor

    def has_next_page(self) -> bool:
        return self.body.has_more and bool(self.body.next_cursor)

    async def next_page(self) -> "AsyncPage[T]":
        if not self.has_next_page():
            raise StopAsyncIteration("this is the last page")
        assert self.body.next_cursor is not None
        return AsyncPage(self._fetch, await self._fetch(self.body.next_cursor))

    async def iter_pages(self) -> AsyncIterator["AsyncPage[T]"]:
        page = self
        yield page
        while page.has_next_page():
            page = await page.next_page()
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPaginator(Generic[T]):
    """Returned by async list methods: await it for the first page, or `async for` over every item."""

    def __init__(self, fetch: Callable[[str | Unset], Awaitable[ListBody[T]]], cursor: str | Unset = UNSET) -> None:
        self._fetch = fetch
        self._cursor = cursor

    async def _first(self) -> AsyncPage[T]:
        return AsyncPage(self._fetch, await self._fetch(self._cursor))

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._first()
        async for item in page:
            yield item
