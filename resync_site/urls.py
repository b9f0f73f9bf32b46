"""URL map of the composition root."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from resync_site import views
from resync_site.api import api

urlpatterns = [
    path("health", views.health, name="health"),
    path("health/detailed", views.health_detailed, name="health-detailed"),
    path("metrics", views.metrics, name="metrics"),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
