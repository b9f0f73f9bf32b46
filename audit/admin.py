"""Read-only admin of the audit trail: filters, search, decrypted payloads by permission, verify and export."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

import audit
from audit.exceptions import ProofNotAvailable
from audit.models import AuditEntry
from audit.operations import chain_verify_recorded, entries_summarised, entry_view_decrypted
from audit.proofs import receipt_build

DECRYPT_PERMISSION = "audit.decrypt_auditentry"


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("seq", "timestamp", "actor", "action", "target", "summary", "correlation_id")
    list_filter = ("action", "actor", ("timestamp", admin.DateFieldListFilter))
    search_fields = ("actor", "action", "target", "correlation_id")
    date_hierarchy = "timestamp"
    ordering = ("-seq",)
    list_per_page = 100
    show_full_result_count = False  # counting millions of rows on each page view is not worth it
    actions = ["verify_chain", "export_jsonl"]
    fields = (
        "receipt",
        "seq",
        "timestamp",
        "actor",
        "action",
        "target",
        "correlation_id",
        "decrypted_payload",
        "key_id",
        "payload",
        "prev_hash",
        "hash",
        "signature",
        "sig_key_id",
        "uid",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_verify_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("audit.verify_auditentry")

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("audit.export_auditentry")

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> AuditEntry | None:
        entry = super().get_object(request, object_id, from_field)
        match = getattr(request, "resolver_match", None)
        viewing = request.method == "GET" and match is not None and str(match.url_name).endswith("_change")
        if entry is not None and viewing and request.user.has_perm(DECRYPT_PERMISSION):
            entry._decrypted = entry_view_decrypted(actor=request.user, entry=entry)
        return entry

    def get_urls(self) -> list[URLPattern]:
        receipt = path(
            "<path:object_id>/receipt/", self.admin_site.admin_view(self.receipt_download), name="audit_receipt"
        )
        verify = path("verify/", self.admin_site.admin_view(self.verify_view), name="audit_verify")
        return [receipt, verify, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(
            request, {**(extra_context or {}), "can_verify": self.has_verify_permission(request)}
        )
        context: dict[str, Any] = dict(getattr(response, "context_data", None) or {})
        changelist = context.get("cl")
        if changelist is not None and request.user.has_perm(DECRYPT_PERMISSION):
            # One page of payloads, read and summarised; the reading is itself one audit entry.
            rows = list(changelist.result_list)
            summaries = entries_summarised(actor=request.user, entries=rows)
            for row in rows:  # the rendered rows themselves: nothing shared between requests
                row._summary = summaries.get(row.pk, "")
        return response

    @admin.display(description=_("payload"))
    def summary(self, obj: AuditEntry) -> str:
        return getattr(obj, "_summary", None) or gettext("sealed")

    def verify_view(self, request: HttpRequest) -> HttpResponse:
        """Verify the whole chain (POST from the list's button; no row needs to be selected)."""
        if request.method != "POST" or not self.has_verify_permission(request):
            raise PermissionDenied
        report = chain_verify_recorded(actor=request.user)
        self.message_user(request, report.summary(), messages.SUCCESS if report.ok else messages.ERROR)
        return HttpResponseRedirect(reverse("admin:audit_auditentry_changelist"))

    @admin.display(description=_("receipt"))
    def receipt(self, obj: AuditEntry) -> str:
        if obj.seq is None:
            return "-"
        url = reverse("admin:audit_receipt", args=[obj.pk])
        return format_html('<a class="button" href="{}" download>{}</a>', url, _("Download receipt"))

    def receipt_download(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Return the entry's receipt as a JSON file (check it with scripts/audit_verify_receipt)."""
        if not self.has_verify_permission(request):
            raise PermissionDenied
        entry = get_object_or_404(AuditEntry, pk=object_id)
        try:
            document = receipt_build(seq=entry.seq or 0)
        except ProofNotAvailable as exc:
            self.message_user(request, gettext("Receipt not available: %(reason)s") % {"reason": exc}, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:audit_auditentry_change", args=[entry.pk]))
        response = JsonResponse(document, json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="audit-receipt-{entry.seq}.json"'
        return response

    @admin.display(description="payload (decrypted)")
    def decrypted_payload(self, obj: AuditEntry) -> str:
        if not hasattr(obj, "_decrypted"):
            return "hidden: needs the 'Can read decrypted audit payloads' permission"
        return format_html("<pre>{}</pre>", json.dumps(obj._decrypted, indent=2, ensure_ascii=False))

    @admin.action(description="Verify the whole audit chain", permissions=["verify"])
    def verify_chain(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> None:
        report = chain_verify_recorded(actor=request.user)
        self.message_user(request, report.summary(), messages.SUCCESS if report.ok else messages.ERROR)

    @admin.action(description="Export selected entries (JSON lines, payloads sealed)", permissions=["export"])
    def export_jsonl(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> HttpResponse:
        fields = [f for f in self.fields if f not in ("decrypted_payload", "receipt")]
        rows = list(queryset.filter(seq__isnull=False).order_by("seq").values(*fields))
        lines = "".join(json.dumps(row, default=str) + "\n" for row in rows)
        audit.record(
            "audit.exported",
            actor=request.user,
            target="audit:export",
            data={"count": len(rows), "seqs": [rows[0]["seq"], rows[-1]["seq"]] if rows else []},
        )
        response = HttpResponse(lines, content_type="application/x-ndjson")
        response["Content-Disposition"] = 'attachment; filename="audit-export.jsonl"'
        return response
