"""URLs of the operator console pages (mounted at /console/ by the composition root)."""

from __future__ import annotations

from django.urls import path

from etl import views

app_name = "etl-console"

urlpatterns = [
    path("", views.runs, name="runs"),
    path("run/", views.run_form, name="run"),
    path("jobs/<int:job_id>/", views.job_live, name="job-live"),
    path("jobs/<int:job_id>/rerun/", views.job_rerun, name="job-rerun"),
    path("jobs/<int:job_id>/log.txt", views.job_log_download, name="job-log"),
]
