from __future__ import annotations

from django.apps import AppConfig


class CachemigConfig(AppConfig):
    name = "cachemig"
    verbose_name = "Feature flags and cache migration"
