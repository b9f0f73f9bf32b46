"""The per-user budget of etl's write requests, shared by the REST API, the websocket and the admin's actions.

Scopes: ``execute`` (run a pipeline or one system, re-run a job: ``POST /api/execute``, ``/api/execute/{id}``,
``/api/jobs/{id}/rerun``, the admin's "Run now" and "Re-run"), ``cancel`` (``POST /api/cancel/{id}``, the
websocket's cancel frame, the admin's "Cancel"), ``credentials`` (``POST /api/credentials``). An entry point
calls :func:`rate_check` before the service; in production the count lives in Redis and every process shares it.
"""

from __future__ import annotations

from typing import Any

from core import rates
from etl import conf


def rate_check(user: Any, scope: str) -> None:
    """Count one ``scope`` request (execute, cancel, credentials) of ``user``; raise ``RateLimited`` past it.

    ``RateLimited`` is a ``ResyncError`` (429, ``retry_after`` seconds): the API maps it once; the admin reports it.
    """
    rates.rate_check(
        scope,
        rates.user_key(user),
        limit=int(conf.get_setting("ETL_RATE_LIMIT_REQUESTS")),
        window_seconds=int(conf.get_setting("ETL_RATE_LIMIT_WINDOW_SECONDS")),
    )
