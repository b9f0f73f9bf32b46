from __future__ import annotations

from django.apps import AppConfig


class TwsConfig(AppConfig):
    name = "tws"
    verbose_name = "Workload scheduler (TWS)"
