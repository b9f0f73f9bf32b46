"""Websocket routes of every app, composed here."""

from __future__ import annotations

from typing import Any

from etl.routing import websocket_urlpatterns as etl_websocket_urlpatterns

websocket_urlpatterns: list[Any] = [*etl_websocket_urlpatterns]
