"""Read every page of a plan query, a few pages in flight so server and client work overlap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from tws.hwa.rows import Row

PageFetch = Callable[[int], Awaitable[tuple[list[Row], int | None]]]


async def all_pages(fetch: PageFetch, *, page_size: int, in_flight: int = 3) -> AsyncIterator[list[Row]]:
    """Yield the rows of every page in order; ``fetch(page_index)`` returns (rows, total or None)."""
    rows, total = await fetch(0)
    yield rows
    if total is None:  # total unknown: one page after the other until a short one
        index = 1
        while len(rows) == page_size:
            rows, _ = await fetch(index)
            yield rows
            index += 1
        return
    pages = -(-total // page_size)
    for start in range(1, pages, in_flight):
        batch = await asyncio.gather(*(fetch(i) for i in range(start, min(start + in_flight, pages))))
        for page_rows, _ in batch:
            yield page_rows
