"""Process-level monitoring: the heartbeat gauge and a worker's own metrics endpoint.

Each process has its own Prometheus registry. Web processes expose theirs at
/metrics; a `manage.py worker` process serves its own on
``RESYNC_WORKER_METRICS_PORT`` so that Prometheus scrapes every worker too
(the ETL and audit counters move in workers).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

from django.conf import settings
from prometheus_client import Gauge, start_http_server

log = logging.getLogger("resync.monitoring")

HEARTBEAT = Gauge(
    "resync_process_heartbeat_timestamp_seconds",
    "Unix time of the last heartbeat of a Resync process",
    ["role", "host", "pid"],
)
HEARTBEAT_SECONDS = 10.0


async def heartbeat(role: str) -> None:
    """Beat every few seconds until cancelled (the alert rules watch the age of the last beat)."""
    gauge = HEARTBEAT.labels(role=role, host=socket.gethostname(), pid=str(os.getpid()))
    while True:
        gauge.set(time.time())
        await asyncio.sleep(HEARTBEAT_SECONDS)


def serve_worker_metrics() -> int:
    """Expose this worker's registry over HTTP; return the port (0 when disabled)."""
    port = int(settings.RESYNC_WORKER_METRICS_PORT)
    if port <= 0:
        return 0
    try:
        start_http_server(port, addr=settings.RESYNC_WORKER_METRICS_HOST)
    except OSError as exc:
        log.warning("worker metrics: port %s unavailable (%s); metrics of this worker are not exposed", port, exc)
        return 0
    log.info("worker metrics on http://%s:%s/metrics", settings.RESYNC_WORKER_METRICS_HOST, port)
    return port
