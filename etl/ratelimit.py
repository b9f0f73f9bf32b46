"""The per-user budget of etl's write requests, shared by the REST API and the websocket."""

from __future__ import annotations

from cachemig.ratelimit import RateDecision, check_rate
from etl import conf


def user_rate(scope: str, user_pk: object) -> RateDecision:
    """Count one ``scope`` request (execute, cancel, credentials) of user ``user_pk`` against its budget."""
    return check_rate(
        f"etl.{scope}",
        f"user:{user_pk}",
        limit=int(conf.get_setting("ETL_RATE_LIMIT_REQUESTS")),
        window_seconds=int(conf.get_setting("ETL_RATE_LIMIT_WINDOW_SECONDS")),
    )
