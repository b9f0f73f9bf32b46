"""URL map of the composition root."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from resync_site import views
from resync_site.api import api

urlpatterns = [
    path("health", views.health, name="health"),
    path("health/detailed", views.health_detailed, name="health-detailed"),
    path("metrics", views.metrics, name="metrics"),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["resync_site"]), name="javascript-catalog"),
    path("console/", include("etl.urls")),
    path("admin/", admin.site.urls),
]
if not settings.PRODUCTION:  # the embedded default has no proxy in front; production serves STATIC_ROOT from nginx
    urlpatterns.append(re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}))
