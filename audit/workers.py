"""Lifecycle hooks of the audit trail: repair at start, the flush and verification workers, the drain."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

from audit import conf
from audit.writer import get_writer

log = logging.getLogger("resync.audit")


def _repair() -> int:
    # A crash may have left committed-but-unsealed entries and spilled ones: seal them before serving.
    from audit.recovery import spill_recover

    close_old_connections()
    try:
        recovered = spill_recover()
        get_writer().flush()
        return recovered
    finally:
        close_old_connections()


async def start(tg: asyncio.TaskGroup) -> None:
    """Seal what a previous run left behind, then run the flush and verification workers in ``tg``."""
    recovered = await asyncio.to_thread(_repair)
    if recovered:
        log.warning("audit: %s entries from the last shutdown were sealed", recovered)
    writer = get_writer()
    tg.create_task(writer.run_worker(), name="audit-flush")
    tg.create_task(verify_worker(), name="audit-verify")
    log.info("audit: workers started (durability %s)", conf.durability())


async def verify_worker() -> None:
    """Verify the chain and archive past retention every interval, until cancelled."""
    from audit.operations import chain_verify_recorded, entries_archive_recorded

    # The first round comes soon after start (a fresh install is verified within minutes, not hours);
    # the lease skips it when another process verified within the interval.
    wait = min(conf.first_verify_seconds(), conf.verify_interval())
    while True:
        await asyncio.sleep(wait)
        wait = conf.verify_interval()
        try:
            if await sync_to_async(_verification_lease, thread_sensitive=False)():
                await asyncio.to_thread(_closing, chain_verify_recorded)
                await asyncio.to_thread(_closing, entries_archive_recorded)
        except Exception:  # the next round tries again; failures are logged and counted
            log.exception("audit: periodic verification or archival failed")


def _closing(operation: Callable[..., object]) -> None:
    # Pool threads outlive the call: leave no database connection open on them.
    try:
        operation(actor=None)
    finally:
        close_old_connections()
        connection.close()


def _verification_lease() -> bool:
    """Return whether this process takes this interval's verification (one process per interval, any machine)."""
    from datetime import timedelta

    from django.db.models import Q
    from django.utils import timezone

    from audit.models import ChainHead

    close_old_connections()
    try:
        now = timezone.now()
        ChainHead.objects.bulk_create([ChainHead(pk=1)], ignore_conflicts=True)
        stale = now - timedelta(seconds=conf.verify_interval() * 0.9)
        won = (
            ChainHead.objects.filter(pk=1)
            .filter(Q(verified_at__isnull=True) | Q(verified_at__lt=stale))
            .update(verified_at=now)
        )
        return won == 1
    finally:
        close_old_connections()


async def drain() -> None:
    """Seal and commit every accepted entry before the database connections close."""
    writer = get_writer()
    left = await writer.drain()
    if left:
        log.critical("audit: %s entries could not be committed and were spilled to disk", left)
    log.info("audit: writer drained, last sealed seq %s", writer.last_sealed_seq)


def core_check() -> None:
    """Fail start-up when the checkpoint store cannot be written or the key ring lacks the trail's keys."""
    from core import keyring

    missing = keyring.missing_purposes()
    if missing:
        raise RuntimeError(
            f"key ring (AUDIT_KEYRING) has no {' and no '.join(repr(m) for m in missing)} keys: add them "
            "(docs/audit.md, Keys) before starting"
        )
    directory = conf.checkpoint_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise RuntimeError(f"audit checkpoint store {directory} is not writable: {exc.strerror}") from None
