"""The migrating cache backend: ``CACHES["default"]`` composing the ``legacy`` and ``new`` aliases."""

from __future__ import annotations

from cachemig.backends.migrating import MigratingCache

__all__ = ["MigratingCache"]
