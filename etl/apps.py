from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy


def _enqueue_job(job_id: int) -> None:
    from etl.tasks import run_job_task  # late: the pipeline child's light set-up never loads Huey

    run_job_task(job_id)


class EtlConfig(AppConfig):
    name = "etl"
    verbose_name = gettext_lazy("ETL pipelines")
    resync_embedded_servers = ("etl.demo.server.run",)
    resync_demo_loaders = ("etl.demo.loader.load",)
    resync_shutdown_drains = ("etl.lifecycle.drain",)
    resync_background_services = ("etl.reaper.start",)
    resync_health_components = (("etl", "etl.health.check", False),)
    resync_dashboard_cards = ("etl.console_selectors.dashboard_card",)

    def ready(self) -> None:
        from core import keyring
        from etl import conf  # noqa: F401 — registers the settings check
        from etl.metrics import register_overdue_collector
        from etl.runner.process import group_alive, kill_group
        from etl.runner.spool import spool_rows
        from etl.services.credentials import credentials_reencrypt
        from etl.services.workers import WorkerSide, worker_side_plug

        keyring.register_reencryptor("etl.credential", credentials_reencrypt)
        # The services sit below the runner and the tasks, so the root of the app plugs those in.
        worker_side_plug(
            WorkerSide(enqueue=_enqueue_job, kill_group=kill_group, group_alive=group_alive, spool_rows=spool_rows)
        )
        # Read at scrape time only (no I/O here): the ETLJobsPastTimeout alert watches it.
        register_overdue_collector()
