"""The per-user budget of etl's write requests, shared by the REST API and the websocket."""

from __future__ import annotations

from typing import Any

from core import rates
from etl import conf


def rate_check(user: Any, scope: str) -> None:
    """Count one ``scope`` request (execute, cancel, credentials) of ``user``; raise ``RateLimited`` past it."""
    rates.rate_check(
        scope,
        rates.user_key(user),
        limit=int(conf.get_setting("ETL_RATE_LIMIT_REQUESTS")),
        window_seconds=int(conf.get_setting("ETL_RATE_LIMIT_WINDOW_SECONDS")),
    )
