"""Audit entries: one row each, payload sealed by the key ring."""

from __future__ import annotations

from django.db import models


class AuditEntry(models.Model):
    """One recorded action."""

    seq = models.BigIntegerField(unique=True)
    timestamp = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=150, db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    target = models.CharField(max_length=255, db_index=True)
    correlation_id = models.CharField(max_length=64, blank=True, default="")
    payload = models.TextField(help_text="AES-GCM sealed JSON; the key id leads the value")

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target} by {self.actor}"
