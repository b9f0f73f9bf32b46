"""Websocket routes of etl: every job at ``/ws``, one job at ``/ws/jobs/<id>``."""

from __future__ import annotations

from typing import Any

from django.urls import path

from etl.consumers import JobEventsConsumer

websocket_urlpatterns: list[Any] = [
    path("ws", JobEventsConsumer.as_asgi()),
    path("ws/jobs/<int:job_id>", JobEventsConsumer.as_asgi()),
]
