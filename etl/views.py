"""Pages of the operator console: the live job page and the full-log download."""

from __future__ import annotations

from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from etl import console_selectors

DOWNLOAD_PAGE = 5000


def panel_context(request: HttpRequest, job_id: int) -> dict[str, object]:
    """Return the template context of the live panel of job ``job_id`` (404 when it does not exist)."""
    panel = console_selectors.job_panel(job_id=job_id)
    if panel is None:
        raise Http404(f"job {job_id} not found")
    panel["can_cancel"] = request.user.has_perm("etl.cancel_job")
    return {"panel": panel, "job_id": job_id}


@login_required
@permission_required("etl.view_job", raise_exception=True)
def job_live(request: HttpRequest, job_id: int) -> HttpResponse:
    """Render the live page of one job."""
    from django.contrib import admin

    context = {**admin.site.each_context(request), **panel_context(request, job_id)}
    return render(request, "etl/job_live.html", context)


async def _log_text(job_id: int) -> AsyncIterator[str]:
    after = 0
    while True:
        text, last = await sync_to_async(console_selectors.log_text_page)(
            job_id=job_id, after_seq=after, limit=DOWNLOAD_PAGE
        )
        if not last:
            return
        yield text
        after = last


@login_required
@permission_required("etl.view_job", raise_exception=True)
def job_log_download(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    """Stream the full log of one job as text, page by page from the database."""
    if not console_selectors.job_exists(job_id=job_id):
        raise Http404(f"job {job_id} not found")
    response = StreamingHttpResponse(_log_text(job_id), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="job-{job_id}.log"'
    return response
