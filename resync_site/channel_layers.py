"""An in-memory channel layer that Huey worker threads can publish to safely.

Channels' ``InMemoryChannelLayer`` keeps ``asyncio.Queue`` objects that belong to
the loop of whoever waits on them (Daphne's). In the embedded default the ETL
runner publishes from Huey worker threads, each with a loop of its own, and
touching those queues from there is not thread-safe. This layer hands every
send from a foreign loop to the receivers' loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    """``InMemoryChannelLayer`` whose sends from other threads run on the receivers' loop."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._home: asyncio.AbstractEventLoop | None = None

    def _foreign_home(self) -> asyncio.AbstractEventLoop | None:
        home = self._home
        if home is None or home.is_closed() or not home.is_running():
            return None
        return None if asyncio.get_running_loop() is home else home

    async def receive(self, channel: str) -> Any:
        self._home = asyncio.get_running_loop()
        return await super().receive(channel)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        home = self._foreign_home()
        if home is None:
            await super().send(channel, message)
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(super().send(channel, message), home))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        home = self._foreign_home()
        if home is None:
            await super().group_send(group, message)
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(super().group_send(group, message), home))

    async def group_add(self, group: str, channel: str) -> None:
        home = self._foreign_home()
        if home is None:
            await super().group_add(group, channel)
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(super().group_add(group, channel), home))
