"""The embedded channel layer delivers messages published from worker threads."""

from __future__ import annotations

import asyncio
import threading

from asgiref.sync import async_to_sync

from resync_site.channel_layers import ThreadSafeInMemoryChannelLayer


async def test_messages_from_another_thread_reach_a_waiting_receiver() -> None:
    layer = ThreadSafeInMemoryChannelLayer(capacity=5000)
    channel = await layer.new_channel()
    await layer.group_add("etl.jobs", channel)
    waiting = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)  # the receiver is now waiting on its queue in this loop

    def worker() -> None:
        for n in range(200):
            async_to_sync(layer.group_send)("etl.jobs", {"type": "job.log", "seq": n})

    thread = threading.Thread(target=worker)
    thread.start()
    received = [await asyncio.wait_for(waiting, timeout=10)]
    while len(received) < 200:
        received.append(await asyncio.wait_for(layer.receive(channel), timeout=10))
    await asyncio.to_thread(thread.join)
    assert [m["seq"] for m in received] == list(range(200))
