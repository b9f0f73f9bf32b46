"""The process owner of ``serve`` and ``worker``: start-up phases, services, Daphne, Huey, ordered shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import OutputWrapper
from django.utils.module_loading import import_string

from resync_site import lifecycle, monitoring
from resync_site.hooks import declared

log = logging.getLogger("resync.serve")


def first_tour(base: str) -> str:
    """Return the first steps shown after start-up, in the console's language (pt-BR unless LANG says English)."""
    from django.utils import translation
    from django.utils.translation import gettext as _

    language = "en" if os.environ.get("LANG", "").lower().startswith("en") else settings.LANGUAGE_CODE
    with translation.override(language):
        steps = [
            _("First steps:"),
            _("1. Log in at %(url)s as admin (password: RESYNC_ADMIN_PASSWORD, or the one printed at set-up).")
            % {"url": f"{base}/admin/"},
            _("2. The admin's home page is the operations dashboard: TWS, ETL, flags, cache and audit at a glance."),
            _("3. Start a demo run (ETL pipelines > Systems > Run now) and follow its log live."),
            _("4. Open a TWS job in ERROR (Workload scheduler > Jobs in plan, status ERROR) and read its joblog."),
            _("5. The REST API and its documentation: %(url)s") % {"url": f"{base}/api/docs"},
        ]
    return "\n".join(f"  {line}" for line in steps)


def own_process(runner: Runner, *, stderr: OutputWrapper) -> None:
    """Check the core systems (exit 2 with the reason when one is unusable), then run ``runner`` until stopped."""
    log.info("logs: %s format (LOG_FORMAT)", settings.LOG_FORMAT, extra={"log_format": settings.LOG_FORMAT})
    try:
        lifecycle.initialize_core_systems()
    except lifecycle.StartupError as exc:
        stderr.write(f"resync: start-up failed: {exc}")
        sys.exit(2)
    asyncio.run(runner.run())


class Runner:
    """Own the process's services and shut them down in order."""

    def __init__(self, *, host: str, port: int, worker: bool, embedded: bool, out: Any, web: bool = True) -> None:
        self.host, self.port, self.worker, self.embedded, self.out = host, port, worker, embedded, out
        self.web = web
        self.stop_requested = asyncio.Event()
        self.daphne: Any = None
        self.consumer: Any = None
        self.ready = threading.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._request_stop, sig)
        async with asyncio.TaskGroup() as tg:
            services_done = asyncio.Event()
            services = tg.create_task(self._services(services_done))
            await services_done.wait()
            self._start_consumer()
            lifecycle.initialize_schedulers()
            lifecycle.start_monitoring_system()
            if not self.web:
                monitoring.serve_worker_metrics()
            web = tg.create_task(asyncio.to_thread(self._run_daphne)) if self.web else None
            if web is not None:
                await asyncio.to_thread(self.ready.wait, 30)
                self._announce()
            else:
                log.info("worker: ready", extra={"workers": getattr(self.consumer, "workers", 0)})
            await self.stop_requested.wait()

            async def cancel_services() -> None:
                services.cancel()

            await lifecycle.shutdown_application(
                stop_intake=self._stop_intake, stop_workers=self._stop_workers, cancel_services=cancel_services
            )
            await self._stop_daphne()
            if web is not None:
                await web
        log.info("serve: stopped")

    def _request_stop(self, sig: signal.Signals) -> None:
        if self.stop_requested.is_set():
            log.warning("serve: second %s, exiting now", sig.name)
            sys.exit(1)
        log.info("serve: %s received, shutting down", sig.name)
        self.stop_requested.set()

    async def _services(self, started: asyncio.Event) -> None:
        # Services live in their own group so shutdown can cancel them after the drains.
        async with asyncio.TaskGroup() as tg:
            if self.embedded:
                for path in declared("resync_embedded_servers"):
                    try:
                        url = await import_string(path)(tg, self.host)
                        log.info("embedded server %s listening at %s", path, url)
                    except Exception as exc:  # noqa: BLE001 — the console still runs without it
                        log.warning("embedded server %s did not start: %s", path, exc)
            await lifecycle.start_background_services(tg)
            tg.create_task(monitoring.heartbeat("web" if self.web else "worker"))
            started.set()
            await asyncio.Event().wait()  # until cancelled at shutdown

    def _start_consumer(self) -> None:
        if not self.worker:
            return
        from django.utils.module_loading import autodiscover_modules
        from huey.consumer import Consumer
        from huey.contrib.djhuey import HUEY

        # Register every app's tasks (as djhuey's run_huey does): a consumer that has not imported
        # etl.tasks cannot run a queued job, and periodic tasks only run once they are registered.
        autodiscover_modules("tasks")

        class InProcessConsumer(Consumer):
            def _set_signal_handlers(self) -> None:
                """Leave signals to the Runner: it owns the process."""

        options = dict(settings.HUEY.get("consumer", {}))  # type: ignore[call-overload]
        self.consumer = InProcessConsumer(
            HUEY,
            workers=int(options.get("workers", 4)),
            worker_type="thread",
            periodic=True,
            check_worker_health=False,
            max_delay=1.0,
            shutdown_timeout=settings.RESYNC_SHUTDOWN_GRACE_SECONDS,
        )
        self.consumer.start()
        log.info("huey consumer started with %s threads", self.consumer.workers)

    def _run_daphne(self) -> None:
        from daphne.server import Server

        from resync_site.asgi import application

        self.daphne = Server(
            application,
            endpoints=[f"tcp:port={self.port}:interface={self.host}"],
            signal_handlers=False,
            ready_callable=self.ready.set,
            application_close_timeout=2,
            verbosity=0,
        )
        self.daphne.run()
        self.ready.set()  # also unblock the waiter when the listen failed

    def _announce(self) -> None:
        if self.daphne is None or not self.daphne.listening_addresses:
            log.error("serve: Daphne is not listening on %s:%s", self.host, self.port)
            self.stop_requested.set()
            return
        base = f"http://{self.host}:{self.port}"
        log.info("serve: ready at %s", base, extra={"url": base})
        # The banner is for the person at the terminal: stderr, so stdout stays pure JSON lines.
        print(f"Resync is ready: {base}/admin/  {base}/api/docs  {base}/health/detailed", file=sys.stderr, flush=True)
        if not settings.PRODUCTION:
            print(first_tour(base), file=sys.stderr, flush=True)

    async def _stop_intake(self) -> None:
        if self.daphne is None:
            return
        from twisted.internet import reactor

        def stop_listening() -> None:
            for listener in self.daphne.listeners:
                listener.addCallback(lambda port: port.stopListening())

        reactor.callFromThread(stop_listening)
        if self.consumer is not None:
            self.consumer.stop_flag.set()  # no new tasks are picked up from here on

    async def _stop_workers(self) -> None:
        if self.consumer is not None:
            await asyncio.to_thread(self.consumer.stop, graceful=True)
            log.info("shutdown: huey consumer stopped")

    async def _stop_daphne(self) -> None:
        if self.daphne is None:
            return
        from twisted.internet import reactor

        reactor.callFromThread(self.daphne.stop)
