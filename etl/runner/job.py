"""Run one job: each step an asyncio subprocess in its own process group, output parsed and batched."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from django.db import DataError, IntegrityError, OperationalError, connection
from django.utils import timezone

from core.redaction import redact_text
from etl import conf, jobfiles, services
from etl.models import Status
from etl.runner import protocol
from etl.runner.lines import pump_lines
from etl.runner.plan import JobPlan, StepPlan, job_plan_claim
from etl.runner.process import group_alive, kill_group
from etl.runner.spool import SpoolTail, spool_open_for_child
from etl.services.steps import Row

log = logging.getLogger("resync.etl.runner")
T = TypeVar("T")
NICE = shutil.which("nice")  # coreutils; without it steps run at the worker's priority
GUARD = os.path.join(os.path.dirname(__file__), "guard.py")  # ends the step's group when its worker dies

# Runners alive in this process, so a shutdown drain can stop them cleanly.
_active: set[JobRunner] = set()
_active_lock = threading.Lock()


def active_runners() -> list[JobRunner]:
    """Return the runners alive in this process."""
    with _active_lock:
        return list(_active)


def _retry_locked(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn`` again when SQLite reports a lock instead of waiting (shared-cache databases do)."""
    for attempt in range(1, 40):
        try:
            return fn(*args, **kwargs)
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(min(0.01 * attempt, 0.2))  # on the runner's database thread, never the loop
    return fn(*args, **kwargs)


def _close_connection() -> None:
    connection.close()  # looked up on the runner's database thread: that thread's own connection


class StepRun:
    """State of the step being run: its output counters, batch and last error lines."""

    def __init__(self, plan: StepPlan, next_seq: int) -> None:
        self.plan = plan
        self.seq = next_seq
        self.lines = 0
        self.progress = 0
        self.explicit_progress = False
        self.status_text = ""
        self.batch: list[Row] = []
        self.errors: collections.deque[str] = collections.deque(maxlen=5)
        self.tail: collections.deque[str] = collections.deque(maxlen=5)
        # Bytes of each spool whose lines are in the batch or stored: stored with the batch, so a crash
        # recovery ingests exactly the lines after them.
        self.offsets: dict[str, int] = dict.fromkeys(jobfiles.STREAMS, 0)
        self.warnings: collections.deque[str] = collections.deque(maxlen=5)


class JobRunner:
    """Run the steps of one claimed job; stop them on cancel, timeout or shutdown."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.db = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"etl-job-{job_id}-db")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_reason = ""  # "cancel" or "shutdown" once a stop is asked
        self.stop_event: asyncio.Event | None = None
        self.current_pgid: int | None = None
        self._stamp_tick = 0.0
        self._stamp = timezone.now()
        self.max_bytes = int(conf.get_setting("ETL_MAX_LINE_BYTES"))
        self.batch_lines = int(conf.get_setting("ETL_LOG_BATCH_LINES"))
        self.batch_seconds = float(conf.get_setting("ETL_LOG_BATCH_SECONDS"))

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.db, lambda: _retry_locked(fn, *args, **kwargs))

    def request_stop(self, reason: str) -> None:
        """Ask the runner to stop its job (thread-safe)."""
        if self.loop is not None and self.stop_event is not None:
            self.loop.call_soon_threadsafe(self._stop, reason)

    def _stop(self, reason: str) -> None:
        if not self.stop_reason:
            self.stop_reason = reason
        if self.stop_event is not None:
            self.stop_event.set()

    async def run(self) -> str:
        """Run the job if it is still pending; return its final status (or "skipped")."""
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        lock = jobfiles.WorkerLock(self.job_id)
        if not await self._db(lock.acquire):
            return "skipped"  # a live runner on this host has it (a duplicate task)
        with _active_lock:
            _active.add(self)
        recorded = False
        try:
            plan = await self._db(job_plan_claim, self.job_id)
            if plan is None:
                return "skipped"  # its spools, if any, are the reaper's to ingest
            status = await self._run_claimed(plan)
            recorded = True
            return status
        finally:
            with _active_lock:
                _active.discard(self)
            # Held until the job's end is stored: a released lock tells the reaper this worker is gone.
            await self._db(lock.release, remove=recorded)
            await self._db(_close_connection)
            self.db.shutdown(wait=True)

    async def _run_claimed(self, plan: JobPlan) -> str:
        status: str = Status.SUCCESS
        exit_code: int | None = 0
        summary = ""
        seq = plan.next_seq
        try:
            async with asyncio.TaskGroup() as tg:
                beat = tg.create_task(self._heartbeat())
                for step in plan.steps:
                    run = StepRun(step, seq)
                    status, exit_code, summary = await self._run_step(run)
                    seq = run.seq
                    if status != Status.SUCCESS:
                        break
                beat.cancel()
        except Exception as exc:  # a runner bug must still end the job and its processes
            log.exception("etl: runner of job %s failed", self.job_id)
            self._kill_current()
            await self._db(
                services.job_finish,
                job_id=self.job_id,
                status=Status.ERROR,
                exit_code=None,
                summary=f"runner failed: {type(exc).__name__}: {exc}"[:500],
            )
            return str(Status.ERROR)
        except asyncio.CancelledError:
            self._kill_current()
            # The worker thread is being torn down (shutdown timeout): record it, never leave "running".
            await asyncio.shield(
                self._db(
                    services.job_finish,
                    job_id=self.job_id,
                    status=Status.ERROR,
                    exit_code=None,
                    summary="interrupted by worker shutdown; re-run it",
                )
            )
            raise
        await self._db(services.job_finish, job_id=self.job_id, status=status, exit_code=exit_code, summary=summary)
        return str(status)

    def _kill_current(self) -> None:
        if self.current_pgid is not None:
            kill_group(self.current_pgid, signal.SIGKILL)

    async def _heartbeat(self) -> None:
        interval = float(conf.get_setting("ETL_HEARTBEAT_SECONDS"))
        while True:
            await asyncio.sleep(interval)
            if await self._db(services.job_heartbeat, job_id=self.job_id):
                self._stop("cancel")

    def _now(self) -> datetime:
        # Lines of one read share a timestamp (to the millisecond): cheaper to stamp and to store.
        tick = time.monotonic()
        if tick - self._stamp_tick > 0.001:
            self._stamp_tick, self._stamp = tick, timezone.now()
        return self._stamp

    def _on_line(self, run: StepRun, raw: bytes, total: int, stream: str = "") -> None:
        if stream:
            run.offsets[stream] += total + 1
        text = redact_text(protocol.decode(raw, total, self.max_bytes))
        parsed = protocol.parse(text, run.plan.system)
        if parsed.progress >= 0:
            # A [PROGRESS] marker drives the bar and the step message; it is not a log line.
            run.explicit_progress, run.progress = True, parsed.progress
            run.status_text = parsed.message or f"{parsed.progress}%"
            return
        run.lines += 1
        if not run.explicit_progress:
            run.progress = protocol.estimate_progress(run.lines, run.plan.typical_lines)
        if parsed.level in ("ERROR", "CRITICAL"):
            run.errors.append(parsed.message[:500])
        elif parsed.level == "WARNING":
            run.warnings.append(parsed.message[:500])
        run.tail.append(parsed.message[:500])
        run.batch.append((run.seq, self._now(), parsed.level, parsed.system, parsed.message))
        run.seq += 1
        if len(run.batch) >= self.batch_lines and self.flush_now is not None:
            self.flush_now.set()

    flush_now: asyncio.Event | None = None

    async def _flush(self, run: StepRun) -> None:
        if not run.batch:
            return
        rows, run.batch = run.batch, []
        await self._db(
            services.step_lines_append,
            job_id=self.job_id,
            step_id=run.plan.step_id,
            rows=rows,
            progress=run.progress,
            line_count=run.lines,
            status_text=run.status_text or f"{run.lines} linhas",
            spool_offsets=dict(run.offsets),
        )

    async def _flusher(self, run: StepRun, done: asyncio.Event) -> None:
        flush_now = self.flush_now
        if flush_now is None:
            return
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(flush_now.wait(), self.batch_seconds)
            flush_now.clear()
            await self._flush(run)

    async def _run_step(self, run: StepRun) -> tuple[str, int | None, str]:
        plan = run.plan
        if self.stop_reason:
            return self._stopped_outcome()
        # The worker (this process, under its own unit's sandbox) creates and checks the report folders.
        problem = await self._db(services.folders_problem)
        if problem:
            return await self._refused(run, problem)
        nice = int(conf.get_setting("ETL_CHILD_NICE"))
        # `nice` execs the step in place (same pid, same process group): the niceness is there before the
        # step runs a line of its own or starts a child, which inherit it.
        guarded = [sys.executable, "-I", "-S", GUARD, str(os.getpid()), "--", *plan.argv]
        argv = [NICE, "-n", str(nice), *guarded] if nice and NICE else guarded
        # The child writes its output to spool files itself: a line is on disk before this worker reads it.
        out_fd = await self._db(spool_open_for_child, self.job_id, plan.step_id, "out")
        err_fd = await self._db(spool_open_for_child, self.job_id, plan.step_id, "err")
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out_fd,
                stderr=err_fd,
                env=plan.env,
                cwd=plan.env.get("PYTHONPATH", ".").split(os.pathsep)[0],
                # Its own process group (one signal reaches the whole tree), but the worker's session: with the
                # kernel's autogroup scheduling (sched(7)) a new session is a new group with a fair share of its
                # own, and the step's niceness would count only inside it (measured: nice 19 steps took about a
                # core away from the web processes on a 2-core machine). Out of the terminal's foreground group,
                # a Ctrl-C at the terminal still does not reach it.
                process_group=0,
            )
        finally:
            os.close(out_fd)
            os.close(err_fd)
        pgid = proc.pid
        self.current_pgid = pgid
        await self._db(services.step_start, step_id=plan.step_id, pid=proc.pid, pgid=pgid)
        self.flush_now = asyncio.Event()
        done = asyncio.Event()
        tails = {
            stream: SpoolTail(jobfiles.spool_path(self.job_id, plan.step_id, stream)) for stream in jobfiles.STREAMS
        }
        outcome: tuple[str, int | None, str]
        try:
            async with asyncio.TaskGroup() as tg:
                readers = [
                    tg.create_task(
                        pump_lines(tail, self.max_bytes, functools.partial(self._on_line, run, stream=stream))
                    )
                    for stream, tail in tails.items()
                ]
                flusher = tg.create_task(self._flusher(run, done))
                outcome = await self._wait(proc, pgid, plan.timeout)
                kill_group(pgid, signal.SIGKILL)  # children left behind by a finished leader go too
                for tail in tails.values():  # nobody of the group writes any more: read to the end, then stop
                    tail.finished.set()
                await asyncio.wait(readers)
                done.set()
                self.flush_now.set()
                await flusher
        finally:
            for tail in tails.values():
                tail.close()
        await self._flush(run)
        status, exit_code, summary = outcome
        if status == Status.SUCCESS:
            status, summary = await self._load_positions(run)
        await self._db(shutil.rmtree, plan.positions_file.parent, ignore_errors=True)
        if status == Status.ERROR and not summary:
            lines = list(run.errors) or list(run.tail)
            summary = f"exit code {exit_code}" + (": " + " | ".join(lines) if lines else "")
        elif status == Status.SUCCESS and not summary and run.warnings:
            summary = " | ".join(run.warnings)  # a success with warnings says so on the run
        await self._db(
            services.step_finish,
            step_id=plan.step_id,
            status=status,
            exit_code=exit_code,
            summary=summary,
            progress=run.progress,
            line_count=run.lines,
        )
        return status, exit_code, summary

    async def _refused(self, run: StepRun, problem: str) -> tuple[str, int | None, str]:
        """End a step that cannot start (its report folders are unusable) with ``problem`` in its log."""
        self._on_line(run, f"[ERROR] [{run.plan.system.upper()}] {problem}".encode(), 0)
        await self._flush(run)
        await self._db(
            services.step_finish,
            step_id=run.plan.step_id,
            status=Status.ERROR,
            exit_code=None,
            summary=problem,
            progress=0,
            line_count=run.lines,
        )
        return Status.ERROR, None, problem

    async def _load_positions(self, run: StepRun) -> tuple[str, str]:
        """Load what the step handed over (``ETL_POSITIONS_FILE``) into the portfolio; return the step's outcome."""
        try:
            loaded = await self._db(_positions_load_handed, run.plan, self.job_id)
        except (ValueError, KeyError, TypeError, ArithmeticError, OSError, DataError, IntegrityError) as exc:
            message = f"the positions the step handed over cannot be loaded: {type(exc).__name__}: {exc}"[:500]
            self._on_line(run, f"[ERROR] [{run.plan.system.upper()}] {message}".encode(), 0)
            await self._flush(run)
            return Status.ERROR, message
        if loaded is not None:
            count, unknown = loaded
            tag = f"[{run.plan.system.upper()}]"
            self._on_line(run, f"[INFO] {tag} {count} posições carregadas no portfólio".encode(), 0)
            for code, rows in sorted(unknown.items()):
                warning = (
                    f"[WARNING] {tag} fundo não configurado {code}: {rows} posições ignoradas (cadastre-o em Fundos)"
                )
                self._on_line(run, warning.encode(), 0)
            await self._flush(run)
            if unknown:
                return Status.SUCCESS, f"fundos não configurados: {', '.join(sorted(unknown))}"
        return Status.SUCCESS, ""

    def _stopped_outcome(self) -> tuple[str, int | None, str]:
        if self.stop_reason == "shutdown":
            return Status.ERROR, None, "interrupted by worker shutdown; re-run it"
        return Status.CANCELLED, None, "cancelled by request"

    async def _wait(self, proc: asyncio.subprocess.Process, pgid: int, limit: float) -> tuple[str, int | None, str]:
        stop_event = self.stop_event
        if stop_event is None:
            raise RuntimeError("runner not started")
        waiter = asyncio.ensure_future(proc.wait())
        stopper = asyncio.ensure_future(stop_event.wait())
        try:
            finished, _ = await asyncio.wait({waiter, stopper}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if waiter in finished:
            code = waiter.result()
            if code != 0 and not self.stop_reason and await self._db(services.job_heartbeat, job_id=self.job_id):
                self._stop("cancel")  # killed by the SIGTERM the cancelling process sent on this host
            if self.stop_reason:
                await self._terminate(proc, pgid)
                status, _, summary = self._stopped_outcome()
                return status, code, summary
            return (Status.SUCCESS, 0, "") if code == 0 else (Status.ERROR, code, "")
        await self._terminate(proc, pgid)
        final_code = proc.returncode
        if stop_event.is_set():
            status, _, summary = self._stopped_outcome()
            return status, final_code, summary
        return Status.ERROR, final_code, f"timeout after {limit:g} s"

    async def _terminate(self, proc: asyncio.subprocess.Process, pgid: int) -> None:
        """SIGTERM the process group, SIGKILL it after the grace period."""
        grace = float(conf.get_setting("ETL_CANCEL_GRACE_SECONDS"))
        kill_group(pgid, signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while loop.time() < deadline:
            if proc.returncode is not None and not group_alive(pgid):
                break
            await asyncio.sleep(0.05)
        kill_group(pgid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 5)


def _positions_load_handed(plan: StepPlan, job_id: int) -> tuple[int, dict[str, int]] | None:
    """Load the positions step ``plan`` handed over; return how many (None when it handed none)."""
    if not plan.positions_file.exists():
        return None  # a configured command, or loading switched off in the options
    rows = json.loads(plan.positions_file.read_text()).get(plan.system, [])
    return services.positions_load(system_code=plan.system, rows=rows, job_id=job_id)


def run_job(job_id: int) -> str:
    """Run job ``job_id`` to its end in a fresh event loop (called by the Huey task)."""
    return asyncio.run(JobRunner(job_id).run())
