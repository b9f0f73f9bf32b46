"""Admin screens of tws: the connection (password write-only), plan, alerts, client metrics."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from tws import metrics, selectors
from tws.admin_jobs import JobWorkbench, short_time
from tws.hwa.names import wildcard_pattern
from tws.models import Alert, JobInPlan, JobStatusTransition, JobStream, SyncRun, TWSConnection, Workstation
from tws.services import alert_acknowledge, connection_delete, connection_save, connection_test


class TWSConnectionForm(forms.ModelForm):
    """The connection form: the password can be replaced, never read back."""

    base_url = forms.URLField(label=gettext_lazy("Base URL"), assume_scheme="https", max_length=300)
    new_password = forms.CharField(
        label=gettext_lazy("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("Write-only: leave empty to keep the stored password."),
    )

    class Meta:
        model = TWSConnection
        fields = ["name", "base_url", "username", "verify_tls", "timeout_seconds", "is_active"]


@admin.register(TWSConnection)
class TWSConnectionAdmin(admin.ModelAdmin):
    form = TWSConnectionForm
    list_display = ["name", "base_url", "username", "is_active", "password_set", "updated_at"]
    actions = ["test_connection"]
    change_list_template = "admin/tws/twsconnection/change_list.html"

    @admin.display(boolean=True, description=gettext_lazy("password set"))
    def password_set(self, obj: TWSConnection) -> bool:
        return bool(obj.password_sealed)

    def save_model(self, request: HttpRequest, obj: TWSConnection, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = connection_save(
            acting_user=request.user,
            connection=obj if change else None,
            name=data["name"],
            base_url=data["base_url"],
            username=data["username"],
            password=data.get("new_password") or None,
            verify_tls=data["verify_tls"],
            timeout_seconds=data["timeout_seconds"],
            is_active=data["is_active"],
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: TWSConnection) -> None:
        connection_delete(acting_user=request.user, connection=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TWSConnection]) -> None:
        for conn in queryset:
            connection_delete(acting_user=request.user, connection=conn)

    @admin.action(description=gettext_lazy("Test connection"))
    def test_connection(self, request: HttpRequest, queryset: QuerySet[TWSConnection]) -> None:
        for conn in queryset:
            ok, detail = connection_test(connection=conn)
            self.message_user(request, f"{conn.name}: {detail}", messages.SUCCESS if ok else messages.ERROR)

    def get_urls(self) -> list[URLPattern]:
        extra = [path("metrics/", self.admin_site.admin_view(self.metrics_view), name="tws_client_metrics")]
        return extra + super().get_urls()

    def metrics_view(self, request: HttpRequest) -> HttpResponse:
        """Show the client's request, retry, circuit and cache figures."""
        rows = []
        for metric in (metrics.REQUESTS, metrics.RETRIES, metrics.CIRCUIT_STATE, metrics.CIRCUIT_OPENS, metrics.CACHE):
            for family in metric.collect():
                for sample in family.samples:
                    if sample.name.endswith("_created"):
                        continue
                    labels = ", ".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                    rows.append((sample.name, labels, sample.value))
        context = {
            **self.admin_site.each_context(request),
            "title": "TWS client metrics",
            "rows": rows,
            "syncs": SyncRun.objects.order_by("-finished_at")[:10],
        }
        return TemplateResponse(request, "admin/tws/metrics.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Synced from TWS: looked at, never edited here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WorkstationFilter(admin.SimpleListFilter):
    """Jobs of one workstation (the workstations of the plan are few)."""

    title = gettext_lazy("workstation")
    parameter_name = "workstation"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(n, n) for n in Workstation.objects.order_by("name").values_list("name", flat=True)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[JobInPlan]) -> QuerySet[JobInPlan]:
        return queryset.filter(workstation=self.value()) if self.value() else queryset


class CriticalFilter(admin.SimpleListFilter):
    """Critical jobs, and those of them that will miss their critical start."""

    title = gettext_lazy("critical")
    parameter_name = "critical"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("yes", gettext_lazy("Critical")),
            ("at_risk", gettext_lazy("At risk")),
            ("late", gettext_lazy("Will be late")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[JobInPlan]) -> QuerySet[JobInPlan]:
        if self.value() == "yes":
            return queryset.filter(critical_start__isnull=False)
        if self.value() in ("at_risk", "late"):
            at_risk = selectors.critical_at_risk()
            late = self.value() == "late"
            return queryset.filter(pk__in=[r.job.pk for r in at_risk if not late or r.lateness.total_seconds() > 0])
        return queryset


class StatusFilter(admin.AllValuesFieldListFilter):
    """Jobs by common status, titled in the operator's language."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = gettext("status")


class StartedFilter(admin.DateFieldListFilter):
    """Jobs by the day they started (today, past 7 days, this month, ...)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = gettext("start time")


@admin.register(JobInPlan)
class JobInPlanAdmin(JobWorkbench, ReadOnlyAdmin):
    list_display = ["job_name", "stream", "ws", "job_status", "started", "ended", "rc", "run"]
    list_filter = [("status", StatusFilter), WorkstationFilter, ("start_time", StartedFilter), CriticalFilter]
    search_fields = ["name", "job_stream", "workstation", "hwa_id"]
    search_help_text = gettext_lazy("Name, job stream, workstation or id; * and @ match any characters, as in HWA.")
    show_full_result_count = False  # counting 150k rows on every page is slow
    list_per_page = 100
    change_list_template = "admin/tws/jobinplan/change_list.html"
    actions = ["hold_jobs", "release_jobs", "cancel_jobs", "kill_jobs", "rerun_jobs"]

    @admin.display(description=gettext_lazy("Name"), ordering="name")
    def job_name(self, obj: JobInPlan) -> str:
        return obj.name

    @admin.display(description=gettext_lazy("Job stream"), ordering="job_stream")
    def stream(self, obj: JobInPlan) -> str:
        return obj.job_stream

    @admin.display(description=gettext_lazy("Workstation"), ordering="workstation")
    def ws(self, obj: JobInPlan) -> str:
        return obj.workstation

    @admin.display(description=gettext_lazy("Status"), ordering="status")
    def job_status(self, obj: JobInPlan) -> str:
        return obj.status

    @admin.display(description=gettext_lazy("Started"), ordering="start_time")
    def started(self, obj: JobInPlan) -> str:
        return short_time(obj.start_time)

    @admin.display(description=gettext_lazy("Ended"), ordering="end_time")
    def ended(self, obj: JobInPlan) -> str:
        return short_time(obj.end_time)

    @admin.display(description="RC", ordering="return_code")
    def rc(self, obj: JobInPlan) -> str:
        return "-" if obj.return_code is None else str(obj.return_code)

    @admin.display(description=gettext_lazy("Run"), ordering="run_number")
    def run(self, obj: JobInPlan) -> int:
        return obj.run_number

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[JobInPlan], search_term: str
    ) -> tuple[QuerySet[JobInPlan], bool]:
        if wildcard_pattern(search_term):
            return queryset.filter(name__iregex=wildcard_pattern(search_term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description=gettext_lazy("Hold the selected jobs"), permissions=["act"])
    def hold_jobs(self, request: HttpRequest, queryset: QuerySet[JobInPlan]) -> HttpResponse | None:
        return self.bulk_act(request, queryset, "hold")

    @admin.action(description=gettext_lazy("Release the selected jobs"), permissions=["act"])
    def release_jobs(self, request: HttpRequest, queryset: QuerySet[JobInPlan]) -> HttpResponse | None:
        return self.bulk_act(request, queryset, "release")

    @admin.action(description=gettext_lazy("Cancel the selected jobs"), permissions=["act"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[JobInPlan]) -> HttpResponse | None:
        return self.bulk_act(request, queryset, "cancel")

    @admin.action(description=gettext_lazy("Kill the selected jobs"), permissions=["act"])
    def kill_jobs(self, request: HttpRequest, queryset: QuerySet[JobInPlan]) -> HttpResponse | None:
        return self.bulk_act(request, queryset, "kill")

    @admin.action(description=gettext_lazy("Rerun the selected jobs"), permissions=["act"])
    def rerun_jobs(self, request: HttpRequest, queryset: QuerySet[JobInPlan]) -> HttpResponse | None:
        return self.bulk_act(request, queryset, "rerun")


@admin.register(Workstation)
class WorkstationAdmin(ReadOnlyAdmin):
    list_display = ["name", "type", "link_state", "limit", "fence", "synced_at"]
    list_filter = ["type", "link_state"]
    search_fields = ["name"]


@admin.register(JobStream)
class JobStreamAdmin(ReadOnlyAdmin):
    list_display = ["name", "workstation", "synced_at"]
    search_fields = ["name", "workstation"]


@admin.register(JobStatusTransition)
class JobStatusTransitionAdmin(ReadOnlyAdmin):
    list_display = ["job_name", "from_status", "to_status", "at"]
    list_filter = ["to_status"]
    search_fields = ["job_name", "job_hwa_id"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "finished_at", "outcome", "api_version", "jobs_seen", "jobs_changed", "detail"]
    list_filter = ["outcome"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "target", "message", "acknowledged_at", "acknowledged_by"]
    list_select_related = ["acknowledged_by"]  # nullable: Django's automatic select_related skips it
    list_filter = ["kind", ("acknowledged_at", admin.EmptyFieldListFilter)]
    search_fields = ["target", "message"]
    actions = ["acknowledge"]

    @admin.action(description=gettext_lazy("Acknowledge selected alerts"), permissions=["acknowledge"])
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        for alert in queryset.filter(acknowledged_at__isnull=True):
            alert_acknowledge(alert_id=alert.pk, acting_user=request.user)
        self.message_user(request, _("Alerts acknowledged."), messages.SUCCESS)

    def has_acknowledge_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("tws.acknowledge_alert"))
