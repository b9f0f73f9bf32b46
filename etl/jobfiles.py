"""The files a running job keeps on its worker's host: the worker's lock and its steps' output spools.

The runner holds an exclusive ``flock`` on ``job-<id>/worker.lock`` for as long as it runs the job. The
kernel releases it when the worker dies, however it dies (``kill -9``, OOM), so any process on the host
can tell a lost worker at once, without waiting for its heartbeat to go stale
(docs/decisions/etl-crash-detection.md). Each step's stdout and stderr are files in the same folder,
written by the child itself: a line is on the host's disk before the worker reads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from pathlib import Path

from django.conf import settings

STREAMS = ("out", "err")


def job_dir(job_id: int) -> Path:
    """Return the folder of job ``job_id``'s files on this host."""
    return Path(settings.VAR_DIR) / "etl" / "run" / f"job-{job_id}"


def spool_path(job_id: int, step_id: int, stream: str) -> Path:
    """Return the spool file of ``stream`` ("out" or "err") of step ``step_id``."""
    return job_dir(job_id) / f"step-{step_id}.{stream}"


class WorkerLock:
    """The lock a worker holds on a job it runs; released by the kernel if the worker dies."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; return False when another live process holds it."""
        folder = job_dir(self.job_id)
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / "worker.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self, *, remove: bool) -> None:
        """Release the lock; with ``remove`` delete the job's folder first (its spools are stored)."""
        if self.fd is None:
            return
        if remove:
            shutil.rmtree(job_dir(self.job_id), ignore_errors=True)
        os.close(self.fd)
        self.fd = None


def worker_gone(job_id: int) -> bool:
    """Return whether job ``job_id`` has a lock on this host that no live process holds."""
    try:
        fd = os.open(job_dir(job_id) / "worker.lock", os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False  # never run here, or finished: the heartbeat decides
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the probe's own lock at once
    return True


def job_ids_here() -> list[int]:
    """Return the ids of the jobs with files on this host."""
    found = (Path(settings.VAR_DIR) / "etl" / "run").glob("job-*")
    return sorted(int(path.name[4:]) for path in found if path.name[4:].isdigit())


def job_files_remove(job_id: int) -> None:
    """Delete job ``job_id``'s files on this host (its lines are stored)."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(job_dir(job_id))
