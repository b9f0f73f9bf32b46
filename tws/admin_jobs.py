"""The job page as an operator's workbench: header, actions with a reason, joblog, transitions, links."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ResyncError
from tws.hwa.contract import JobAction
from tws.models import JobInPlan, JobStatusTransition, JobStream, Workstation
from tws.services import job_act_and_read, job_actions_allowed, job_log, job_store
from tws.services.bridge import run_async

ACTION_LABELS: dict[str, Any] = {
    "rerun": gettext_lazy("Rerun"),
    "hold": gettext_lazy("Hold"),
    "release": gettext_lazy("Release"),
    "kill": gettext_lazy("Kill"),
    "cancel": gettext_lazy("Cancel"),
}
# Badge colours of console.css by common status.
_BADGE = {"ERROR": "error", "SUCCESSFUL": "success", "RUNNING": "running", "HELD": "cancelled", "CANCELED": "cancelled"}


def short_time(value: datetime | None) -> str:
    """Return ``value`` as day/month hour:minute in the operator's time zone ("-" when unset)."""
    return "-" if value is None else f"{timezone.localtime(value):%d/%m %H:%M:%S}"


class ReasonForm(forms.Form):
    """Why the operator acts: recorded in the audit entry, like DWC's audit justification."""

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("Recorded in the audit trail with your name."),
    )


def act_on(request: HttpRequest, job: JobInPlan, action: JobAction, reason: str) -> bool:
    """Run ``action`` on ``job`` for the operator, store HWA's answer and tell the operator how it went."""
    if action not in job_actions_allowed(status=job.status):
        messages.warning(
            request,
            _("%(job)s: %(action)s is not possible in status %(status)s.")
            % {"job": job, "action": ACTION_LABELS[action], "status": job.status},
        )
        return False
    try:
        fresh = run_async(
            partial(job_act_and_read, job_hwa_id=job.hwa_id, action=action, acting_user=request.user, reason=reason)
        )
    except ResyncError as exc:  # HWA's refusal carries its own message code (AWSJ...E)
        messages.error(request, _("%(job)s: HWA refused: %(message)s") % {"job": job, "message": exc})
        return False
    stored = job_store(job=fresh) if fresh is not None else None
    run = stored.run_number if stored is not None else job.run_number
    status = stored.status if stored is not None else "?"
    messages.success(
        request,
        _("%(job)s: %(action)s accepted by HWA (now %(status)s, run %(run)s).")
        % {"job": job, "action": ACTION_LABELS[action], "status": status, "run": run},
    )
    return True


class JobWorkbench(admin.ModelAdmin):
    """The jobs-in-plan admin's page for one job and its confirmations (list and page share ``act_on``)."""

    def has_act_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("tws.act_on_job"))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        extra = [
            path("<path:object_id>/act/<str:action>/", view(self.act_view), name="tws_jobinplan_act"),
            path("<path:object_id>/joblog/", view(self.joblog_view), name="tws_jobinplan_joblog"),
        ]
        return extra + super().get_urls()

    def _job(self, request: HttpRequest, object_id: str) -> JobInPlan:
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_permission(request, job):
            raise PermissionDenied
        return job

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        job = self._job(request, object_id)
        try:
            joblog, joblog_error = run_async(partial(job_log, job_hwa_id=job.hwa_id)), ""
        except ResyncError as exc:
            joblog, joblog_error = "", str(exc)
        can_act = self.has_act_permission(request)
        stream = JobStream.objects.filter(hwa_id=job.job_stream_hwa_id).first() if job.job_stream_hwa_id else None
        workstation = Workstation.objects.filter(name=job.workstation).first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(job),
            "job": job,
            "badge": _BADGE.get(job.status, "idle"),
            "actions_offered": [(a, ACTION_LABELS[a]) for a in job_actions_allowed(status=job.status) if can_act],
            "joblog": joblog,
            "joblog_error": joblog_error,
            "transitions": JobStatusTransition.objects.filter(job_hwa_id=job.hwa_id).order_by("-at")[:50],
            "stream_url": reverse("admin:tws_jobstream_change", args=[stream.pk]) if stream else "",
            "stream_jobs_url": reverse("admin:tws_jobinplan_changelist") + f"?job_stream__exact={job.job_stream}",
            "workstation_url": reverse("admin:tws_workstation_change", args=[workstation.pk]) if workstation else "",
        }
        return TemplateResponse(request, "admin/tws/jobinplan/workbench.html", context)

    def act_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """Ask for the reason of one action, then run it and go back to the job's page."""
        job = self._job(request, object_id)
        if not self.has_act_permission(request) or action not in ACTION_LABELS:
            raise PermissionDenied
        page = reverse("admin:tws_jobinplan_change", args=[job.pk])
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            act_on(request, job, action, form.cleaned_data["reason"])  # type: ignore[arg-type]
            return HttpResponseRedirect(page)
        return self._confirm(request, [job], action, form, back=page)

    def joblog_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Return the job's joblog as a text file."""
        job = self._job(request, object_id)
        text = run_async(partial(job_log, job_hwa_id=job.hwa_id))
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        filename = f"{job.workstation}_{job.job_stream}_{job.name}_run{job.run_number}.log".replace('"', "")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _confirm(
        self,
        request: HttpRequest,
        jobs: list[JobInPlan],
        action: str,
        form: ReasonForm,
        *,
        back: str,
        bulk: bool = False,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("%(action)s: confirm") % {"action": ACTION_LABELS[action]},
            "jobs": [(j, action in job_actions_allowed(status=j.status)) for j in jobs],
            "action": action,
            "action_label": ACTION_LABELS[action],
            "form": form,
            "bulk": bulk,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "back": back,
        }
        return TemplateResponse(request, "admin/tws/jobinplan/act_confirm.html", context)

    def bulk_act(self, request: HttpRequest, queryset: QuerySet[JobInPlan], action: JobAction) -> HttpResponse | None:
        """Ask for one reason for the batch, then act on each job and report each result."""
        form = ReasonForm(request.POST if request.POST.get("confirmed") == "yes" else None)
        if form.is_bound and form.is_valid():
            for job in queryset:
                act_on(request, job, action, form.cleaned_data["reason"])
            return None
        back = reverse("admin:tws_jobinplan_changelist")
        return self._confirm(request, list(queryset[:200]), action, form, back=back, bulk=True)
