"""The worker side as the services see it: hand a job to a worker, signal a process group on this host.

``etl.tasks`` and ``etl.runner`` import the services, so the services never import them back, not even
inside a function (etl stays acyclic for import-linter): ``EtlConfig.ready()`` plugs them in here.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured

from etl.models import Job, Status

log = logging.getLogger("resync.etl.queue")
HOSTNAME = socket.gethostname()


@dataclass(frozen=True, slots=True)
class WorkerSide:
    """The callables of the worker side that the services use."""

    enqueue: Callable[[int], object]  # hand job id to a worker (Huey's run_job_task)
    kill_group: Callable[[int, int], bool]  # etl.runner.process.kill_group
    group_alive: Callable[[int, datetime | None], bool]  # etl.runner.process.group_alive
    # etl.runner.spool.spool_rows: the lines of a step's spools past the stored offsets, and the new offsets
    spool_rows: Callable[..., tuple[list[tuple[int, datetime, str, str, str]], dict[str, int]]]


_plugged: WorkerSide | None = None


def worker_side_plug(side: WorkerSide) -> WorkerSide | None:
    """Use ``side`` from now on; return the one it replaces."""
    global _plugged
    previous, _plugged = _plugged, side
    return previous


def worker_side() -> WorkerSide:
    """Return the plugged worker side."""
    if _plugged is None:
        raise ImproperlyConfigured("etl: no worker side is plugged in (EtlConfig.ready() does it)")
    return _plugged


def job_enqueue(*, job_id: int) -> bool:
    """Hand job ``job_id`` to a worker (call it once the job is committed); return whether the queue took it.

    The job is committed already, so a queue that cannot be reached (Redis down) is not the caller's
    failure: the job stays pending with no ``enqueued_at`` and the reaper hands it over on its next run
    once the queue answers again (``etl.services.reaping.jobs_reap``).
    """
    try:
        worker_side().enqueue(job_id)
    except Exception as exc:  # noqa: BLE001 — any failure of the queue client: never a lost job nor a 500
        log.warning(
            "etl: job %s stays pending, the queue is unreachable (%s: %s); the reaper will queue it",
            job_id,
            type(exc).__name__,
            str(exc)[:200],
        )
        Job.objects.filter(pk=job_id, status=Status.PENDING).update(enqueued_at=None)
        return False
    return True
