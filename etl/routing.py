"""Websocket routes of etl: every job at ``/ws``, one job at ``/ws/jobs/<id>``."""

from __future__ import annotations

from typing import Any

from django.urls import path

from etl.consumers import JobEventsConsumer

# Following a job's log needs this permission, at the handshake and for as long as the socket stays open.
VIEW_PERMISSION = "etl.view_job"

websocket_urlpatterns: list[Any] = [
    path("ws", JobEventsConsumer.as_asgi()),
    path("ws/jobs/<int:job_id>", JobEventsConsumer.as_asgi()),
]
