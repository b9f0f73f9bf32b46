"""The write path: a bounded buffer, group commit for ``sync``, a flush worker for ``buffered``.

Invariants: an accepted entry is sealed exactly once or its caller is told it was not;
a full buffer makes writers wait, then raises ``AuditUnavailable`` (nothing is dropped);
one flush at a time per process (``_flush_lock``) keeps this process's entries in order,
and the chain head row lock (services.entries_seal) keeps the chain linear across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field

from django.db import close_old_connections, connection, transaction

from audit import conf, metrics
from audit.exceptions import AuditUnavailable
from audit.sealing import SealResult, entries_seal
from audit.services import Draft, pending_insert

log = logging.getLogger("resync.audit")


@dataclass(slots=True)
class Ticket:
    """A sync writer waiting for its entry (or its seal request) to be committed, or to be asked to lead."""

    event: threading.Event = field(default_factory=threading.Event)
    committed: bool = False
    error: BaseException | None = None

    @property
    def settled(self) -> bool:
        """Return whether the entry was committed or failed."""
        return self.committed or self.error is not None

    def settle(self, error: BaseException | None = None) -> None:
        """Tell the waiting writer how its entry ended."""
        self.error = error
        self.committed = error is None
        self.event.set()


@dataclass(slots=True)
class Item:
    """One buffered element: a draft to seal (or None: seal pending rows) and its waiter, if any."""

    draft: Draft | None
    ticket: Ticket | None = None


class AuditWriter:
    """Own the buffer and the flush of one process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._buffer: list[Item] = []
        self._flush_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._suspect = False  # the last flush failed: its commit may have happened anyway
        self._pending_hint = False  # rows were committed unsealed: the worker must run a seal pass
        self._local = threading.local()
        self.last_sealed_seq = 0
        self.last_flush_error = ""
        self.failing_since: float | None = None
        self.last_pass = time.monotonic()

    # --- accepting ---------------------------------------------------------
    @property
    def depth(self) -> int:
        """Return how many accepted entries wait to be sealed."""
        return sum(1 for item in self._buffer if item.draft is not None)

    @property
    def worker_running(self) -> bool:
        """Return whether a flush worker runs in this process."""
        return self._loop is not None

    def _accept(self, item: Item, *, wait: bool = True) -> bool:
        capacity = int(conf.get("AUDIT_BUFFER_SIZE"))
        patience = float(conf.get("AUDIT_BACKPRESSURE_SECONDS"))
        with self._cond:
            deadline = time.monotonic() + patience
            while item.draft is not None and len(self._buffer) >= capacity:
                remaining = deadline - time.monotonic()
                if not wait:
                    return False
                if remaining <= 0:
                    raise AuditUnavailable(
                        f"audit buffer full ({len(self._buffer)} of {capacity} entries) and not draining "
                        f"for {patience:g} s: entry '{item.draft.action}' NOT recorded"
                    )
                self._cond.wait(remaining)
            self._buffer.append(item)
            size = len(self._buffer)
        metrics.buffer_depth.set(size)
        if self._loop is not None and size >= max(1, capacity // 2):
            self._wake_worker()
        return True

    def _wake_worker(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(wake.set)

    def record(self, draft: Draft) -> None:
        """Accept ``draft`` under the configured durability."""
        if transaction.get_connection().in_atomic_block:
            # Written with the caller's change; sealed once that change commits.
            pending_insert(draft=draft)
            self._local.unsealed = True
            transaction.on_commit(self._after_commit, robust=True)
            return
        if conf.durability() == "buffered" and self.worker_running:
            self._accept(Item(draft))
            return
        self._commit(Item(draft, Ticket()))

    async def arecord(self, draft: Draft) -> None:
        """Accept ``draft`` from async code without blocking the event loop."""
        if conf.durability() == "buffered" and self.worker_running:
            if not self._accept(Item(draft), wait=False):
                await asyncio.to_thread(self._accept, Item(draft))
            return
        item = Item(draft, Ticket())
        if not self._accept(item, wait=False):
            await asyncio.to_thread(self._accept, item)
        await asyncio.to_thread(self._lead_from_pool, item)

    def _lead_from_pool(self, item: Item) -> None:
        # Pool threads outlive the call: never leave a database connection open on one.
        try:
            self._lead(item)
        finally:
            connection.close()

    def _after_commit(self) -> None:
        if not getattr(self._local, "unsealed", False):
            return  # an earlier callback of this commit already sealed them
        self._local.unsealed = False
        if conf.durability() == "buffered" and self.worker_running:
            self._pending_hint = True
            self._wake_worker()
        else:
            self.seal_pending()

    def seal_pending(self) -> None:
        """Seal committed pending entries now (group-committed with concurrent writers)."""
        self._commit(Item(None, Ticket()))

    def _commit(self, item: Item) -> None:
        self._accept(item)
        self._lead(item)

    def _lead(self, item: Item) -> None:
        ticket = item.ticket
        if ticket is None:
            return
        # Group commit: whoever gets the lock seals everything queued so far; the others
        # sleep on their own ticket until it is settled or they are handed the lead.
        while not ticket.settled:
            if self._flush_lock.acquire(blocking=False):
                try:
                    if not ticket.settled:
                        self._flush_locked()
                except Exception as exc:  # noqa: BLE001 — the ticket carries the error to its writer
                    log.debug("audit: group commit failed: %s", type(exc).__name__)
                finally:
                    self._flush_lock.release()
                    self._hand_off()
            else:
                ticket.event.wait()
                ticket.event.clear()
        if ticket.error is not None:
            raise ticket.error

    def _hand_off(self) -> None:
        # Wake the first writer still waiting, so entries queued during our flush get a leader.
        with self._cond:
            waiting = next((item.ticket for item in self._buffer if item.ticket is not None), None)
        if waiting is not None:
            waiting.event.set()

    # --- flushing ----------------------------------------------------------
    def flush(self) -> SealResult | None:
        """Seal everything accepted so far; on failure the batch is back at the front and the error raised."""
        try:
            with self._flush_lock:
                return self._flush_locked()
        finally:
            self._hand_off()

    def _flush_locked(self) -> SealResult | None:
        self._pending_hint = False  # this pass seals every committed pending row
        with self._cond:
            batch, self._buffer = self._buffer, []
            self._cond.notify_all()
        metrics.buffer_depth.set(0)
        drafts = [item.draft for item in batch if item.draft is not None]
        try:
            result = entries_seal(drafts=drafts, check_duplicates=self._suspect)
        except Exception as exc:
            self._suspect = True
            self._requeue(batch, exc)
            raise
        self._suspect = False
        self.last_pass = time.monotonic()
        self.failing_since, self.last_flush_error = None, ""
        for item in batch:
            if item.ticket is not None:
                item.ticket.settle()
        if result.sealed:
            metrics.entries_total.inc(result.sealed)
        self.last_sealed_seq = result.last_seq
        return result

    def _requeue(self, batch: list[Item], exc: Exception) -> None:
        metrics.flush_failures_total.inc()
        self.last_flush_error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if self.failing_since is None:
            self.failing_since = time.monotonic()
        keep = [item for item in batch if item.ticket is None]
        for item in batch:
            if item.ticket is not None:  # a sync writer learns its entry was not committed
                item.ticket.settle(AuditUnavailable(f"audit entry not committed: {self.last_flush_error}"))
        with self._cond:
            self._buffer[:0] = keep  # back at the front, in the original order
            size = len(self._buffer)
        metrics.buffer_depth.set(size)
        log.warning("audit: flush of %s entries failed, kept for retry: %s", len(keep), self.last_flush_error)

    def flush_from_worker(self) -> SealResult | None:
        """Flush on a worker thread, with its database connection checked before and after."""
        close_old_connections()
        try:
            return self.flush()
        finally:
            close_old_connections()

    # --- worker and drain --------------------------------------------------
    async def run_worker(self) -> None:
        """Flush on interval, when woken, and retry failures with back-off, until cancelled or drained."""
        loop, wake = asyncio.get_running_loop(), asyncio.Event()
        self._loop, self._wake = loop, wake
        backoff = 0.0
        try:
            while self._loop is loop:  # drain() hands flushing back to the writers
                interval = float(conf.get("AUDIT_FLUSH_INTERVAL_SECONDS"))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=backoff or interval)
                wake.clear()
                idle = time.monotonic() - self.last_pass < float(conf.get("AUDIT_CHECKPOINT_SECONDS"))
                quiet = not self._buffer and not self._pending_hint and idle and not backoff
                if self._loop is not loop or quiet:
                    continue
                try:
                    await asyncio.to_thread(self.flush_from_worker)
                    backoff = 0.0
                except Exception:  # noqa: BLE001 — retried; counted in audit_flush_failures_total
                    backoff = min(max(backoff * 2, 0.1), float(conf.get("AUDIT_FLUSH_RETRY_MAX_SECONDS")))
        finally:
            if self._loop is loop:
                self._loop = self._wake = None

    async def drain(self) -> int:
        """Seal every accepted entry (retrying until the drain timeout); return how many were left unsealed."""
        deadline = time.monotonic() + float(conf.get("AUDIT_DRAIN_TIMEOUT_SECONDS"))
        delay = 0.05
        # From here on writers commit their own entries: the worker stops and is about to be cancelled.
        wake = self._wake
        self._loop = self._wake = None
        if wake is not None:
            wake.set()
        while True:
            try:
                await asyncio.to_thread(self.flush_from_worker)
                if not self._buffer:
                    return 0
            except Exception as exc:  # noqa: BLE001 — retried until the deadline
                if time.monotonic() >= deadline:
                    return await asyncio.to_thread(self.spill, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    def spill(self, exc: BaseException) -> int:
        """Write entries that could not be committed to the spill directory for the next start."""
        from audit.recovery import spill_write

        with self._flush_lock, self._cond:
            batch, self._buffer = self._buffer, []
        drafts = [item.draft for item in batch if item.draft is not None]
        path = spill_write(drafts)
        log.critical(
            "audit: database unavailable at shutdown (%s): %s entries kept in %s, sealed at next start",
            type(exc).__name__,
            len(drafts),
            path,
        )
        return len(drafts)


_writer = AuditWriter()


def get_writer() -> AuditWriter:
    """Return this process's writer."""
    return _writer
