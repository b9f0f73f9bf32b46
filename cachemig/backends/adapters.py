"""The async twins and the operators' interface adapters of the migrating cache."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

from cachemig.backends import sides

if TYPE_CHECKING:
    from collections.abc import Callable

    from cachemig.backends.breaker import CircuitBreaker
    from cachemig.backends.options import MigratingOptions
    from cachemig.backends.state import DirtyKeys
    from cachemig.backends.telemetry import Telemetry

PROBE_KEY = "cachemig:probe"


class AsyncTwinsMixin(BaseCache):
    """Each async method runs its sync twin in one thread hop, so both behave the same.

    BaseCache builds ``aget_many``, ``ahas_key`` and ``aincr`` from ``aget``
    and ``aset`` (one hop per key, and a non-atomic incr); here each is one
    call of the sync method, which keeps Redis' atomic INCR and the routing.
    ``aget_or_set``, ``adecr`` and the version twins stay BaseCache's: they
    are built from these and call a callable default on the event loop, as Django does.
    """

    async def aadd(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:  # noqa: ASYNC109 — Django's signature
        """See add()."""
        return await sync_to_async(self.add, thread_sensitive=True)(key, value, timeout, version)

    async def aget(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        """See get()."""
        return await sync_to_async(self.get, thread_sensitive=True)(key, default, version)

    async def aset(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:  # noqa: ASYNC109 — Django's signature
        """See set()."""
        await sync_to_async(self.set, thread_sensitive=True)(key, value, timeout, version)

    async def atouch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:  # noqa: ASYNC109 — Django's signature
        """See touch()."""
        return await sync_to_async(self.touch, thread_sensitive=True)(key, timeout, version)

    async def adelete(self, key: Any, version: int | None = None) -> bool:
        """See delete()."""
        return await sync_to_async(self.delete, thread_sensitive=True)(key, version)

    async def aget_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        """See get_many()."""
        return await sync_to_async(self.get_many, thread_sensitive=True)(list(keys), version)

    async def ahas_key(self, key: Any, version: int | None = None) -> bool:
        """See has_key()."""
        return await sync_to_async(self.has_key, thread_sensitive=True)(key, version)

    async def aincr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        """See incr()."""
        return await sync_to_async(self.incr, thread_sensitive=True)(key, delta, version)

    async def aset_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:  # noqa: ASYNC109 — Django's signature
        """See set_many()."""
        return await sync_to_async(self.set_many, thread_sensitive=True)(data, timeout, version)

    async def adelete_many(self, keys: Any, version: int | None = None) -> None:
        """See delete_many()."""
        await sync_to_async(self.delete_many, thread_sensitive=True)(list(keys), version)

    async def aclear(self) -> None:
        """See clear()."""
        await sync_to_async(self.clear, thread_sensitive=True)()

    async def aclose(self, **kwargs: Any) -> None:
        """See close()."""
        await sync_to_async(self.close, thread_sensitive=True)(**kwargs)


class AdaptersMixin:
    """``size()``, ``stop()``/``shutdown()``, ``get_stats()``/``get_detailed_metrics()``: the operators' names."""

    name: str
    options: MigratingOptions
    legacy: BaseCache
    new: BaseCache
    telemetry: Telemetry
    breaker: CircuitBreaker
    dirty: DirtyKeys

    def call_new(
        self,
        operation: str,
        fn: Callable[..., Any],
        *args: Any,
        routed: bool,
        semantic: tuple[type[Exception], ...] = (),
    ) -> Any:
        """Call ``fn`` on the new side through the breaker (MigratingCache implements it)."""
        raise NotImplementedError

    def size(self) -> int | None:
        """Return the number of keys of the fuller side that can tell (``size_detail()`` says why if None)."""
        counts = [entry["keys"] for entry in self.size_detail().values() if entry["keys"] is not None]
        return max(counts) if counts else None

    def size_detail(self) -> dict[str, dict[str, Any]]:
        """Return the key count of each side, or None with the reason it cannot tell."""
        legacy_keys, legacy_reason = sides.count_keys(self.legacy)
        counted = self.call_new("size", sides.count_keys, self.new, routed=False)
        if counted is sides.FAILED:
            counted = (None, "new side unreachable (error or open circuit)")
        return {
            "legacy": {"keys": legacy_keys, "reason": legacy_reason},
            "new": {"keys": counted[0], "reason": counted[1]},
        }

    def stop(self) -> None:
        """Close both sides and release their connections."""
        sides.disconnect(self.legacy)
        self.call_new("stop", sides.disconnect, self.new, routed=False)

    def shutdown(self) -> None:
        """Same as ``stop()`` (the other interface's name)."""
        self.stop()

    def probe_new(self) -> bool:
        """Read a probe key from the new side through the breaker; return whether it answered."""
        return self.call_new("probe", self.new.get, PROBE_KEY, None, routed=False) is not sides.FAILED

    def get_stats(self) -> dict[str, Any]:
        """Return routing, figures, breaker, guard window and sizes as plain data."""
        stats = self.telemetry.snapshot()
        stats.update(
            {
                "name": self.name,
                "legacy_backend": sides.describe(self.legacy),
                "new_backend": sides.describe(self.new),
                "options": asdict(self.options),
                "guard_window": self.telemetry.window_totals(),
                "keys_to_repair": self.dirty.count(),
                "size": self.size_detail(),
            }
        )
        return stats

    def get_detailed_metrics(self) -> dict[str, Any]:
        """Same as ``get_stats()`` (the other interface's name)."""
        return self.get_stats()
