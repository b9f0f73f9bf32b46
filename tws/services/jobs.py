"""Actions on jobs in plan (hold, release, cancel, kill, rerun), audited."""

from __future__ import annotations

from typing import Any

import audit
from tws.hwa.contract import JobAction


async def job_act(*, job_hwa_id: str, action: JobAction, acting_user: Any) -> None:
    """Ask TWS to run ``action`` on a job, then record who asked (the change happens in TWS, not here)."""
    from tws.hwa.client import get_tws_client

    client = await get_tws_client()
    await client.act(job_hwa_id, action)
    await audit.arecord(f"tws_job.{action}", actor=acting_user, target=f"tws_job:{job_hwa_id}", data={"action": action})
