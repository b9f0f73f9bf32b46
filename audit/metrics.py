"""Prometheus metrics of the audit trail (names fixed by DESIGN.md §4.6)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

entries_total = Counter("audit_entries", "Audit entries sealed into the chain")
buffer_depth = Gauge("audit_buffer_depth", "Audit entries accepted in memory and not yet sealed")
flush_failures_total = Counter("audit_flush_failures", "Audit flushes that failed and were retried")
verify_failures_total = Counter("audit_verify_failures", "Audit verifications that found the chain broken")
foreign_rows_total = Counter(
    "audit_foreign_rows", "Rows the recorder did not write (forged pending rows, rows past the head), quarantined"
)
