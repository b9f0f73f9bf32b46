"""The rollout guard of TWS_UNIFIED_V2_ENABLED: error ratio and circuit opens of the v2 path, fleet-wide.

Every process adds the v2 calls, errors and circuit opens of its clients to
figures shared in the Redis of the ``new`` cache (``cachemig.flags.figures``),
so the worker that sweeps the guards judges the calls of every web process.
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async

from cachemig import flags

if TYPE_CHECKING:
    from tws.hwa.http import Resilience

FLAG = "TWS_UNIFIED_V2_ENABLED"
# The guard judges the calls since the flag's stage began, at most this far back (the shared figures expire).
WINDOW_SECONDS = 600
V2_FIGURES = flags.SharedCallFigures("tws:v2", window_seconds=WINDOW_SECONDS)
# Per client: the counters already added to the shared figures.
_noted: dict[int, tuple[weakref.ref[Resilience], int, int, int]] = {}
_noted_lock = threading.Lock()


async def anote_v2_figures(resilience: Resilience) -> None:
    """Note what ``resilience`` counted since last time; publish the completed seconds on a worker thread."""
    if note_v2_figures(resilience):
        await sync_to_async(V2_FIGURES.publish, thread_sensitive=False)()


def note_v2_figures(resilience: Resilience) -> bool:
    """Add what ``resilience`` counted since last noted (v2 calls, errors, opens); return whether to publish."""
    calls, errors = resilience.stats["v2_calls"], resilience.stats["v2_errors"]
    opens = resilience.breaker.open_count
    with _noted_lock:
        seen = _noted.get(id(resilience))
        if seen is None or seen[0]() is not resilience:
            seen = (weakref.ref(resilience), 0, 0, 0)
            if len(_noted) > 1000:  # clients are one per event loop; drop the ones gone
                for key in [k for k, v in _noted.items() if v[0]() is None]:
                    del _noted[key]
        _noted[id(resilience)] = (seen[0], calls, errors, opens)
    delta = (calls - seen[1], errors - seen[2], opens - seen[3])
    return V2_FIGURES.record(calls=delta[0], errors=delta[1], circuit_opens=delta[2])


def v2_figures(since: datetime | None) -> flags.CallFigures:
    """Return the fleet's v2 figures since ``since``, what this process's clients counted noted first."""
    with _noted_lock:
        resiliences = [entry[0]() for entry in _noted.values()]
    for resilience in resiliences:
        if resilience is not None:
            note_v2_figures(resilience)
    V2_FIGURES.publish()
    return V2_FIGURES(since)


# Breached above 5 % errors over at least 20 v2 calls, or on any circuit open; v2 has no fallback.
unified_v2_guard = flags.RatioGuard(FLAG, source=v2_figures, min_calls=20, max_error_ratio=0.05)
