"""Admin screens of the platform: API tokens (created and revoked through services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from resync_site.models import ApiToken
from resync_site.services import token_create, token_revoke

admin.site.site_header = "Resync"
admin.site.site_title = "Resync"
admin.site.index_title = gettext_lazy("Operations")
admin.site.site_url = "/console/"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "prefix")
    fields = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke_tokens"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        return (*self.readonly_fields, "name", "user") if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return  # a token is immutable; revoke it and create another
        token, raw = token_create(user=obj.user, name=obj.name, acting_user=request.user)
        obj.pk, obj.prefix, obj.digest, obj.created_at = token.pk, token.prefix, token.digest, token.created_at
        obj._state.adding = False
        messages.warning(request, _("Copy this token now; it is not shown again: %(token)s") % {"token": raw})

    def delete_model(self, request: HttpRequest, obj: ApiToken) -> None:
        token_revoke(token=obj, acting_user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_revoke(token=token, acting_user=request.user)

    @admin.action(description=gettext_lazy("Revoke selected tokens"))
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_revoke(token=token, acting_user=request.user)
        count = queryset.count()
        self.message_user(request, ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", count) % {"n": count})
