"""What every route of the simulator shares: HWA's error body, compact JSON, the serving simulator."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

if TYPE_CHECKING:
    from tws.simulator.server import SimulatorServer

SERVER_KEY: web.AppKey[SimulatorServer] = web.AppKey("simulator", object)  # type: ignore[arg-type]


def error_response(status: int, message: str, **headers: str) -> web.Response:
    """Return an HWA error body ``{"messages": [...]}``."""
    return web.json_response({"messages": [message]}, status=status, headers=headers or None)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Return compact JSON (large pages: no indentation, no spaces)."""
    body = json.dumps(data, separators=(",", ":"))
    return web.Response(text=body, status=status, content_type="application/json", headers=headers)


def server_of(request: web.Request) -> SimulatorServer:
    """Return the simulator serving ``request``."""
    return request.app[SERVER_KEY]


def path_id(request: web.Request, name: str) -> str:
    """Return path parameter ``name`` as HWA's servlet container hands it over.

    The container reads a literal ';' in a segment as the start of path parameters and drops them,
    so ``WS;JSID;JOB`` sent unencoded arrives as ``WS``; only ``WS%3BJSID%3BJOB`` arrives whole.
    """
    resource = request.match_info.route.resource
    template = resource.canonical.split("/") if resource is not None else []
    raw = request.raw_path.split("?", 1)[0].split("/")
    marker = "{" + name + "}"
    if marker not in template or len(raw) != len(template):
        return request.match_info[name]
    return unquote(raw[template.index(marker)].split(";", 1)[0])
