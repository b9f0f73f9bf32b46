"""Admin screens of the feature flags; every write goes through cachemig.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cachemig import flags, services
from cachemig.models import FeatureFlag, RolloutEvent
from cachemig.selectors import guard_description, guard_status
from core.errors import ResyncError

STATE_FIELDS = ("state", "percent")


class RolloutEventInline(admin.TabularInline):
    model = RolloutEvent
    fk_name = "flag"
    extra = 0
    can_delete = False
    ordering = ("-created_at", "-id")
    fields = ("created_at", "kind", "from_percent", "to_percent", "actor", "reason", "figures", "forced_text")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("forced past a refused gate"))
    def forced_text(self, obj: RolloutEvent) -> str:
        return _("yes") if obj.forced else "—"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FeatureFlag)
class FeatureFlagAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "state",
        "exposure_percent",
        "override",
        "guard_status_now",
        "updated_at",
        "updated_by",
        "reason",
    )
    search_fields = ("name", "description")
    fields = ("name", "description", "state", "percent", "rollout_plan", "group_id", "guard_in_force", "reason")
    inlines = (RolloutEventInline,)
    actions = ("advance_to_next_stage", "roll_back")

    def get_readonly_fields(self, request: HttpRequest, obj: FeatureFlag | None = None) -> tuple[str, ...]:
        return ("name", "guard_in_force") if obj else ("guard_in_force",)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a flag of record must never go with a bulk delete
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: FeatureFlag | None = None) -> bool:
        if obj is not None and obj.name in flags.FLAGS_OF_RECORD:
            return False  # code reads it: deleting it would silently turn it off everywhere
        return super().has_delete_permission(request, obj)

    @admin.display(description=gettext_lazy("percent"))
    def exposure_percent(self, obj: FeatureFlag) -> int:
        return obj.exposure

    @admin.display(description=gettext_lazy("env override"))
    def override(self, obj: FeatureFlag) -> str:
        return str({"on": _("on"), "off": _("off")}.get(flags.env_override(obj.name), _("not set")))

    @admin.display(description=gettext_lazy("guard status"))
    def guard_status_now(self, obj: FeatureFlag) -> str:
        status = guard_status(obj.name)[0]
        if status.startswith("breached: "):
            return _("breached: %(reason)s") % {"reason": status.removeprefix("breached: ")}
        return str({"ok": _("ok"), "no guard": _("no guard")}.get(status, status))

    @admin.display(description=gettext_lazy("guard in force"))
    def guard_in_force(self, obj: FeatureFlag | None) -> str:
        return guard_description(obj.name) if obj is not None and obj.name else "—"

    def save_model(self, request: HttpRequest, obj: FeatureFlag, form: Any, change: bool) -> None:
        # The form shows the last change's reason; only a newly typed one describes this change.
        typed = form.cleaned_data.get("reason") if "reason" in form.changed_data else ""
        reason = typed or "edited in the admin"
        edits = {k: form.cleaned_data[k] for k in services.EDITABLE if k in form.changed_data}
        if not change:
            obj.pk = services.flag_create(name=obj.name, acting_user=request.user, reason=reason, **edits).pk
        elif edits:
            services.flag_update(name=obj.name, changes=edits, acting_user=request.user, reason=reason)
        if any(k in form.changed_data for k in STATE_FIELDS):
            services.flag_set(
                name=obj.name, state=obj.state, percent=obj.percent, acting_user=request.user, reason=reason
            )
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: FeatureFlag) -> None:
        services.flag_delete(name=obj.name, acting_user=request.user, reason="deleted in the admin")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FeatureFlag]) -> None:
        for name in list(queryset.values_list("name", flat=True)):
            services.flag_delete(name=name, acting_user=request.user, reason="deleted in the admin")

    @admin.action(description=gettext_lazy("Advance the rollout (gate figures first)"), permissions=["change"])
    def advance_to_next_stage(self, request: HttpRequest, queryset: QuerySet[FeatureFlag]) -> HttpResponse | None:
        names = list(queryset.values_list("name", flat=True))
        if request.POST.get("confirm") == "yes":
            force = request.POST.get("force") == "yes"
            chosen = request.POST.get("to", "")
            to = int(chosen) if chosen.isdigit() and len(names) == 1 else None
            for name in names:
                try:
                    outcome = services.flag_rollout(
                        name=name, to=to, force=force, acting_user=request.user, reason=request.POST.get("reason", "")
                    )
                except ResyncError as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                else:
                    self.message_user(request, outcome.describe(), messages.SUCCESS)
            return None
        previews: list[dict[str, Any]] = []
        for name in names:
            try:
                outcome = services.flag_rollout(name=name, dry_run=True, acting_user=request.user)
                previews.append({"outcome": outcome, "error": ""})
            except ResyncError as exc:
                previews.append({"outcome": None, "name": name, "error": str(exc)})
        single = queryset.first() if len(names) == 1 else None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Advance the rollout?"),
            "opts": self.model._meta,
            "previews": previews,
            "any_refused": any(p["outcome"] and not p["outcome"].gate_ok for p in previews),
            # One flag: the operator may choose any later stage of its plan (the next one preselected).
            "targets": [s for s in single.stages if s > single.exposure] if single is not None else [],
            "queryset": queryset,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cachemig/featureflag/advance_confirmation.html", context)

    @admin.action(description=gettext_lazy("Roll back to 0%% now (asks for a reason)"), permissions=["change"])
    def roll_back(self, request: HttpRequest, queryset: QuerySet[FeatureFlag]) -> HttpResponse | None:
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") == "yes" and reason:
            for name in list(queryset.values_list("name", flat=True)):
                event = services.flag_rollback(name=name, reason=reason, acting_user=request.user)
                self.message_user(
                    request,
                    _("%(flag)s: rolled back from %(percent)s%% to 0%%")
                    % {"flag": name, "percent": event.from_percent},
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Roll back to 0%?"),
            "opts": self.model._meta,
            "queryset": queryset,
            "missing_reason": request.POST.get("confirm") == "yes",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cachemig/featureflag/rollback_confirmation.html", context)


@admin.register(RolloutEvent)
class RolloutEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "flag_name", "kind", "from_percent", "to_percent", "actor", "reason", "forced")
    list_filter = ("kind", "flag_name")
    search_fields = ("flag_name", "reason", "actor")
    readonly_fields = [f.name for f in RolloutEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
