"""Run the async client from sync code (Huey threads, admin actions, commands)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_async(fn: Callable[[], Awaitable[T]]) -> T:
    """Return the result of ``fn()`` run on a fresh event loop in its own thread.

    A thread of its own, because the caller may itself run inside asgiref's
    sync_to_async (admin views under ASGI), where a nested loop cannot hand
    thread-sensitive work back to the caller's thread.
    """

    async def main() -> T:
        return await fn()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tws-sync") as pool:
        return pool.submit(asyncio.run, main()).result()
