"""Admin screens of etl; every write goes through the services (one audited write path)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.errors import ResyncError
from etl import catalog, conf, services
from etl.exceptions import InvalidInput
from etl.models import Credential, Fund, Job, JobStep, PathConfig, Position, Status, System
from etl.ratelimit import rate_check
from etl.services.systems import system_validate, validate_folder
from etl.templatetags.etl_console import duration
from etl.views import queued_message


def _report(modeladmin: admin.ModelAdmin, request: HttpRequest, exc: ResyncError) -> None:
    modeladmin.message_user(request, str(exc), level=messages.ERROR)


class SystemForm(forms.ModelForm):
    """System form checked by the service's rules before anything is saved."""

    class Meta:
        model = System
        fields = ("code", "name", "active", "base_url", "command_name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            system_validate(
                code=data.get("code") or "",
                name=data.get("name") or "",
                base_url=data.get("base_url") or "",
                command_name=data.get("command_name") or None,
            )
        except InvalidInput as exc:
            if exc.field == "code":
                self.add_error("code", _("Use a lower-case code such as “amplis” (letters, digits, - and _)."))
            elif exc.field in self.fields:
                self.add_error(exc.field, str(exc))
            else:
                raise forms.ValidationError(str(exc)) from exc
        return data


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    form = SystemForm
    list_display = ("code", "name", "active", "base_url", "updated_at")
    list_filter = ("active",)
    search_fields = ("code", "name")
    readonly_fields = ("options", "updated_at")
    fields = ("code", "name", "active", "base_url", "command_name", "options", "updated_at")
    actions = ("toggle_active", "run_now")

    def has_delete_permission(self, request: HttpRequest, obj: System | None = None) -> bool:
        return False  # systems keep their job history; deactivate instead

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "command_name":  # a choice among the configured commands, never a typed program
            choices = [("", _("bundled pipeline (python -m etl.pipeline)"))] + [(n, n) for n in sorted(conf.commands())]
            return forms.ChoiceField(choices=choices, required=False, label=_("command"), help_text=db_field.help_text)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: System, form: Any, change: bool) -> None:
        saved = services.system_save(
            code=obj.code,
            name=obj.name,
            active=obj.active,
            base_url=obj.base_url,
            command_name=obj.command_name,
            acting_user=request.user,
        )
        obj.pk = saved.pk

    @admin.action(description=gettext_lazy("Activate/deactivate the selected systems"), permissions=["change"])
    def toggle_active(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        for system in queryset:
            services.system_toggle(system_id=system.pk, acting_user=request.user)
        count = queryset.count()
        self.message_user(request, ngettext("%(n)d system toggled.", "%(n)d systems toggled.", count) % {"n": count})

    @admin.action(description=gettext_lazy("Run now (today's date)"), permissions=["execute"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        codes = [s.code for s in queryset.order_by("code")]
        try:
            rate_check(request.user, "execute")  # the same budget as POST /api/execute
            job = services.job_execute(
                systems=codes, options={"data_inicial": timezone.localdate().isoformat()}, acting_user=request.user
            )
        except ResyncError as exc:
            _report(self, request, exc)
            return
        self.message_user(request, queued_message(job))

    def has_execute_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("etl.execute_job"))


class CredentialForm(forms.ModelForm):
    """Credential form with a write-only password (empty keeps the stored one), checked by the service's rules."""

    password = forms.CharField(
        label=gettext_lazy("New password"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=gettext_lazy("Write-only; leave empty to keep the stored password."),
    )

    class Meta:
        model = Credential
        fields = ("system", "subaccount", "url", "username")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        system = data.get("system")
        if system is None or self.errors:
            return data
        subaccount = data.get("subaccount") or ""
        try:
            data["url"] = services.credential_validate(
                system=system,
                subaccount=subaccount,
                url=data.get("url") or "",
                username=data.get("username") or "",
                password=data.get("password") or None,
            )
        except InvalidInput as exc:
            self._explain(exc, system, subaccount)
        return data

    def _explain(self, exc: InvalidInput, system: System, subaccount: str) -> None:
        if exc.field == "subconta":
            allowed = ", ".join(a or _("(none)") for a in catalog.profile_for(system.code).subaccounts)
            self.add_error(
                "subaccount",
                _("%(system)s has no sub-account “%(value)s”; choose one of: %(allowed)s.")
                % {"system": system.name, "value": subaccount, "allowed": allowed},
            )
        elif exc.field == "username":
            self.add_error("username", _("The user name is required."))
        elif exc.field == "url":
            self.add_error("url", _("Enter an http:// or https:// address."))
        elif exc.field == "password":
            self.add_error("password", _("A new credential needs a password."))
        else:
            self.add_error(None, str(exc))


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    form = CredentialForm
    list_display = ("system", "subaccount", "username", "url", "password_state", "password_changed_at")
    list_filter = ("system",)
    readonly_fields = ("password_state", "password_changed_at")
    actions = ("test_connection",)

    @admin.display(description=gettext_lazy("stored password"))
    def password_state(self, obj: Credential) -> str:
        return _("password set") if obj.password_is_set else _("password not set")

    def save_model(self, request: HttpRequest, obj: Credential, form: Any, change: bool) -> None:
        # The form ran the service's checks; a failure here is a race and must not be reported as a success.
        saved = services.credential_save(
            system_id=obj.system_id,
            subaccount=obj.subaccount,
            url=obj.url,
            username=obj.username,
            password=form.cleaned_data.get("password") or None,
            acting_user=request.user,
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Credential) -> None:
        services.credential_delete(credential_id=obj.pk, acting_user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Credential]) -> None:
        for credential in queryset:
            services.credential_delete(credential_id=credential.pk, acting_user=request.user)

    @admin.action(description=gettext_lazy("Test connection"), permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Credential]) -> None:
        for credential in queryset.select_related("system"):
            try:
                check = services.credential_test(credential_id=credential.pk, acting_user=request.user)
            except InvalidInput:
                text = _("%(credential)s: no address or no password to test with.") % {"credential": credential}
                self.message_user(request, text, messages.ERROR)
                continue
            values = {"credential": credential, "url": check.url, "status": check.status, "reason": check.reason}
            if check.ok:
                self.message_user(request, _("%(credential)s: %(url)s accepted the login.") % values, messages.SUCCESS)
            elif check.status is None:
                self.message_user(
                    request, _("%(credential)s: %(url)s could not be reached (%(reason)s).") % values, messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    _("%(credential)s: %(url)s refused the login (HTTP %(status)s): %(reason)s") % values,
                    messages.ERROR,
                )


@admin.register(Fund)
class FundAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "system", "active")
    list_filter = ("system", "active")
    search_fields = ("code", "name")
    actions = ("activate", "deactivate")

    def save_model(self, request: HttpRequest, obj: Fund, form: Any, change: bool) -> None:
        saved = services.fund_save(
            system_id=obj.system_id, code=obj.code, name=obj.name, active=obj.active, acting_user=request.user
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Fund) -> None:
        services.fund_delete(fund_id=obj.pk, acting_user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Fund]) -> None:
        for fund in queryset:
            services.fund_delete(fund_id=fund.pk, acting_user=request.user)

    @admin.action(description=gettext_lazy("Activate the selected funds"), permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Fund]) -> None:
        count = services.funds_set_active(
            fund_ids=list(queryset.values_list("pk", flat=True)), active=True, acting_user=request.user
        )
        self.message_user(request, ngettext("%(n)d fund activated.", "%(n)d funds activated.", count) % {"n": count})

    @admin.action(description=gettext_lazy("Deactivate the selected funds"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Fund]) -> None:
        count = services.funds_set_active(
            fund_ids=list(queryset.values_list("pk", flat=True)), active=False, acting_user=request.user
        )
        self.message_user(
            request, ngettext("%(n)d fund deactivated.", "%(n)d funds deactivated.", count) % {"n": count}
        )


class PathForm(forms.ModelForm):
    """Report folder form: absolute, created on demand, writable."""

    class Meta:
        model = PathConfig
        fields = ("kind", "path")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("path"):
            try:
                data["path"] = str(validate_folder("path", data["path"]))
            except ResyncError as exc:
                self.add_error("path", str(exc))
        return data


@admin.register(PathConfig)
class PathConfigAdmin(admin.ModelAdmin):
    form = PathForm
    list_display = ("kind", "path", "updated_at")

    def save_model(self, request: HttpRequest, obj: PathConfig, form: Any, change: bool) -> None:
        saved = services.path_save(kind=obj.kind, path=obj.path, acting_user=request.user)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: PathConfig) -> None:
        services.path_delete(kind=obj.kind, acting_user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PathConfig]) -> None:
        for config in queryset:
            services.path_delete(kind=config.kind, acting_user=request.user)


class JobStepInline(admin.TabularInline):
    model = JobStep
    extra = 0
    can_delete = False
    fields = (
        "order",
        "system",
        "status",
        "progress",
        "started_at",
        "finished_at",
        "exit_code",
        "error_summary",
        "line_count",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ("console/console.css",)}

    list_display = (
        "id",
        "kind",
        "systems_label",
        "status_badge",
        "progress",
        "created_by",
        "created_at",
        "duration",
        "live_link",
    )
    list_filter = ("status", "kind", "created_at")
    # created_by is nullable, which Django's automatic select_related skips: one query per row without this.
    list_select_related = ("created_by",)
    search_fields = ("id", "trace_id", "error_summary")
    date_hierarchy = "created_at"
    inlines = (JobStepInline,)
    actions = ("cancel_jobs", "rerun_jobs")
    readonly_fields = (
        "kind",
        "systems_label",
        "options",
        "status_badge",
        "progress",
        "trace_id",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "cancel_requested_at",
        "duration",
        "exit_code",
        "error_summary",
        "hostname",
        "rerun_of",
    )
    exclude = ("status", "enqueued_at", "systems", "duration_seconds")

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> Any:
        # Nothing on a job is editable: no Save buttons that would report a change that never happened.
        extra = {
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False  # job history is evidence

    @admin.display(description=gettext_lazy("systems"))
    def systems_label(self, obj: Job) -> str:
        return ", ".join(obj.systems)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, obj: Job) -> str:
        return format_html('<span class="rs-badge" data-status="{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description=gettext_lazy("live"))
    def live_link(self, obj: Job) -> str:
        return format_html('<a href="{}">{}</a>', reverse("etl-console:job-live", args=[obj.pk]), _("Watch live"))

    @admin.display(description=gettext_lazy("duration"), ordering="duration_seconds")
    def duration(self, obj: Job) -> str:
        return duration(obj.duration_seconds)

    @admin.action(description=gettext_lazy("Cancel the selected jobs"), permissions=["cancel"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        for job in queryset:
            try:
                rate_check(request.user, "cancel")
                done = services.job_cancel(job_id=job.pk, acting_user=request.user)
            except ResyncError as exc:
                _report(self, request, exc)
                continue
            if done.status == Status.CANCELLED:
                self.message_user(request, _("Job %(id)s cancelled.") % {"id": job.pk})
            else:
                self.message_user(
                    request,
                    _("Job %(id)s: cancel requested; the run stops shortly.") % {"id": job.pk},
                    messages.WARNING,
                )

    @admin.action(description=gettext_lazy("Re-run the selected jobs"), permissions=["rerun"])
    def rerun_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        for job in queryset:
            try:
                rate_check(request.user, "execute")
                new = services.job_rerun(job_id=job.pk, acting_user=request.user)
                self.message_user(request, queued_message(new))
            except ResyncError as exc:
                _report(self, request, exc)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("etl.cancel_job"))

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("etl.rerun_job"))


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ("date", "system", "fund", "asset", "quantity_shown", "price_shown", "value_shown", "job")
    list_filter = ("system", "date")
    search_fields = ("asset", "fund__code")
    list_select_related = ("system", "fund", "job")

    # Figures with the language's separators and thousands grouped ("1.234.567,89" in pt-BR).
    @admin.display(description=gettext_lazy("quantity"), ordering="quantity")
    def quantity_shown(self, obj: Position) -> str:
        return number_format(obj.quantity.normalize(), force_grouping=True)

    @admin.display(description=gettext_lazy("price"), ordering="price")
    def price_shown(self, obj: Position) -> str:
        return number_format(obj.price, 4, force_grouping=True)

    @admin.display(description=gettext_lazy("value"), ordering="value")
    def value_shown(self, obj: Position) -> str:
        return number_format(obj.value, 2, force_grouping=True)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # positions come from the pipeline

    def has_change_permission(self, request: HttpRequest, obj: Position | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Position | None = None) -> bool:
        return False
