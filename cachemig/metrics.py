"""Prometheus metrics of the feature flags."""

from __future__ import annotations

from prometheus_client import Counter

FLAG_AUTO_ROLLBACKS = Counter(
    "flag_auto_rollbacks_total", "Flags rolled back automatically because their guard was breached", ["flag"]
)
FLAG_CHANGES = Counter("flag_changes_total", "Changes made to feature flags", ["flag", "kind"])
