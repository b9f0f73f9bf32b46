"""The ``tws`` health component: degraded, never down, when the scheduler is unreachable."""

from __future__ import annotations

from typing import Any

import httpx

from tws.hwa.http import _tls_context
from tws.hwa.settings import load_tws_settings
from tws.models import SyncRun


def check() -> dict[str, Any]:
    """Probe engine/info (2 s) and report the last sync."""
    settings = load_tws_settings()
    last = SyncRun.objects.order_by("-finished_at").values("outcome", "finished_at").first()
    sync = {"last_sync": last["finished_at"].isoformat(), "last_outcome": last["outcome"]} if last else {}
    try:
        response = httpx.get(
            settings.base_url.rstrip("/") + "/twsd/api/v2/engine/info",
            auth=(settings.username, settings.password.get_secret_value()),
            timeout=2.0,
            verify=_tls_context(settings.verify_tls),
        )
    except httpx.HTTPError as exc:
        return {"status": "degraded", "detail": f"TWS unreachable ({type(exc).__name__})", **sync}
    if response.status_code != 200:
        return {"status": "degraded", "detail": f"TWS answered {response.status_code}", **sync}
    status = "degraded" if last and last["outcome"] == "failed" else "ok"
    return {"status": status, "detail": f"engine {response.json().get('fullVersion', '?')}", **sync}
