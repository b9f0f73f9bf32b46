"""Pages of the operator console: runs index, run form, the live job page, re-run and the full-log download."""

from __future__ import annotations

from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import RateLimited, ResyncError
from etl import console_selectors, services
from etl.exceptions import InvalidInput, SystemBusy
from etl.forms import RunForm
from etl.models import Job, Status, System
from etl.ratelimit import rate_check

DOWNLOAD_PAGE = 5000
RUNS_PER_PAGE = 25


def queued_message(job: Job) -> SafeString:
    """Return the "job queued" message with a link to its live page."""
    return format_html(
        '{} <a href="{}">{}</a>',
        _("Job %(id)s queued for %(systems)s.") % {"id": job.pk, "systems": ", ".join(job.systems)},
        reverse("etl-console:job-live", args=[job.pk]),
        _("Watch it live"),
    )


def panel_context(request: HttpRequest, job_id: int) -> dict[str, object]:
    """Return the template context of the live panel of job ``job_id`` (404 when it does not exist)."""
    panel = console_selectors.job_panel(job_id=job_id)
    if panel is None:
        raise Http404(f"job {job_id} not found")
    panel["can_cancel"] = request.user.has_perm("etl.cancel_job")
    final = str(panel["status"]).lower() in (Status.SUCCESS, Status.ERROR, Status.CANCELLED)
    panel["may_rerun"] = request.user.has_perm("etl.rerun_job")
    panel["can_rerun"] = final and panel["may_rerun"]
    panel["has_failed"] = any(str(s["status"]).lower() in (Status.ERROR, Status.CANCELLED) for s in panel["steps"])
    return {"panel": panel, "job_id": job_id, "request": request}


@login_required
@permission_required("etl.view_job", raise_exception=True)
def runs(request: HttpRequest) -> HttpResponse:
    """Render the runs index: running first, then recent, filtered by status and system."""
    status = request.GET.get("status", "")
    system = request.GET.get("system", "")
    status = status if status in Status.values else ""
    page = Paginator(console_selectors.runs_index(status=status, system=system), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Runs"),
        "page": page,
        "status": status,
        "system": system,
        "statuses": Status.choices,
        "systems": System.objects.order_by("name"),
        "can_run": request.user.has_perm("etl.execute_job"),
    }
    return render(request, "etl/runs.html", context)


@login_required
@permission_required("etl.execute_job", raise_exception=True)
def run_form(request: HttpRequest) -> HttpResponse:
    """Render the run form; on a valid POST start the run and go to its live page."""
    initial = {"sistemas": request.GET.getlist("sistemas")}
    form = RunForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rate_check(request.user, "execute")
            job = services.job_execute(
                systems=form.cleaned_data["sistemas"], options=form.cleaned_data["options"], acting_user=request.user
            )
        except SystemBusy as exc:
            form.add_error("sistemas", _("A chosen system is already running in job %(id)s.") % {"id": exc.job_id})
        except RateLimited as exc:
            form.add_error(None, _("Too many runs started; try again in %(seconds)s s.") % {"seconds": exc.retry_after})
        except InvalidInput as exc:
            detail = str(exc).split(": ", 1)[-1]
            if exc.field == "credentials":
                form.add_error("sistemas", _("Missing credentials: %(detail)s") % {"detail": detail})
            else:
                form.add_error(exc.field if exc.field in form.fields else None, detail)
        else:
            messages.success(request, queued_message(job))
            return redirect("etl-console:job-live", job_id=job.pk)
    context = {**admin.site.each_context(request), "title": _("Start a run"), "form": form}
    return render(request, "etl/run_form.html", context)


@login_required
@permission_required("etl.view_job", raise_exception=True)
def job_live(request: HttpRequest, job_id: int) -> HttpResponse:
    """Render the live page of one job."""
    context = {**admin.site.each_context(request), **panel_context(request, job_id)}
    return render(request, "etl/job_live.html", context)


@require_POST
@login_required
@permission_required("etl.rerun_job", raise_exception=True)
def job_rerun(request: HttpRequest, job_id: int) -> HttpResponse:
    """Re-run job ``job_id`` (all its systems, or ``only=failed``) and go to the new job's live page."""
    rerun = services.job_rerun_failed if request.POST.get("only") == "failed" else services.job_rerun
    try:
        rate_check(request.user, "execute")  # the same budget as the API's re-run
        job = rerun(job_id=job_id, acting_user=request.user)
    except ResyncError as exc:
        messages.error(request, _("Job %(id)s was not re-run: %(reason)s") % {"id": job_id, "reason": exc})
        return redirect("etl-console:job-live", job_id=job_id)
    messages.success(request, queued_message(job))
    return redirect("etl-console:job-live", job_id=job.pk)


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
