"""Demo reports server (aiohttp): AMPLIS/MAPS/FIDC positions CSV, PDF and XLSX behind basic auth."""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hmac
import logging

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from asgiref.sync import sync_to_async

from etl import catalog, conf
from etl.demo.reports import SYSTEMS, demo_password, demo_username, positions_csv, report_pdf, report_xlsx

log = logging.getLogger("resync.etl.demo")


def _accounts(system: str) -> dict[str, str]:
    """Return user name -> account of a system."""
    return {demo_username(system, a): a for a in catalog.profile_for(system).subaccounts}


def _authenticate(request: web.Request, system: str) -> str:
    header = request.headers.get("Authorization", "")
    challenge = {"WWW-Authenticate": f'Basic realm="{SYSTEMS[system]}"'}
    if not header.startswith("Basic "):
        raise web.HTTPUnauthorized(headers=challenge, text="authentication required")
    try:
        username, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise web.HTTPUnauthorized(headers=challenge, text="malformed credentials") from None
    account = _accounts(system).get(username)
    if account is None or not hmac.compare_digest(password.encode(), demo_password(system, account).encode()):
        raise web.HTTPUnauthorized(headers=challenge, text="invalid user or password")
    wanted = request.query.get("conta", "")
    if wanted and wanted != account:
        raise web.HTTPForbidden(text=f"user {username} cannot read account {wanted}")
    return account


async def login(request: web.Request) -> web.Response:
    """Answer a login check: 200 with the account when the credential is good, 401/403 with the reason."""
    system = request.match_info["system"]
    if system not in SYSTEMS:
        raise web.HTTPNotFound(text=f"unknown system {system}")
    account = _authenticate(request, system)
    return web.json_response({"ok": True, "system": system, "account": account})


def _request(request: web.Request) -> tuple[str, str, dt.date]:
    system = request.match_info["system"]
    if system not in SYSTEMS:
        raise web.HTTPNotFound(text=f"unknown system {system}")
    account = _authenticate(request, system)
    try:
        day = dt.date.fromisoformat(request.query.get("data", ""))
    except ValueError:
        raise web.HTTPBadRequest(text="query parameter 'data' must be YYYY-MM-DD") from None
    return system, account, day


async def positions(request: web.Request) -> web.Response:
    """Serve a positions CSV."""
    system, account, day = _request(request)
    return web.Response(text=positions_csv(system, account, day), content_type="text/csv", charset="utf-8")


async def pdf(request: web.Request) -> web.Response:
    """Serve a PDF report."""
    system, _, day = _request(request)
    return web.Response(body=report_pdf(system, day), content_type="application/pdf")


async def xlsx(request: web.Request) -> web.Response:
    """Serve an XLSX report."""
    system, account, day = _request(request)
    body = await asyncio.to_thread(report_xlsx, system, account, day)
    return web.Response(body=body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _delayed(delay_seconds: float) -> Middleware:
    @web.middleware
    async def slow(request: web.Request, handler: Handler) -> web.StreamResponse:
        await asyncio.sleep(delay_seconds)
        return await handler(request)

    return slow


def make_app(*, delay_seconds: float = 0.0) -> web.Application:
    """Return the demo reports application (each answer ``delay_seconds`` late: a slow source)."""
    app = web.Application(middlewares=[_delayed(delay_seconds)] if delay_seconds > 0 else [])
    app.router.add_get("/{system}/login", login)
    app.router.add_get("/{system}/positions.csv", positions)
    app.router.add_get("/{system}/report.pdf", pdf)
    app.router.add_get("/{system}/report.xlsx", xlsx)
    return app


async def start(host: str, port: int, *, delay_seconds: float = 0.0) -> tuple[web.AppRunner, str]:
    """Start the server on ``host:port`` (0 = any free port); return its runner and base URL."""
    runner = web.AppRunner(make_app(delay_seconds=delay_seconds), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, f"http://{host}:{bound}"


async def _serve_until_cancelled(runner: web.AppRunner) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def run(tg: asyncio.TaskGroup, host: str) -> str:
    """Start the demo reports server in ``tg`` on the configured port (or any free one); return its URL."""
    host = host or "127.0.0.1"
    port = int(conf.get_setting("ETL_DEMO_SERVER_PORT"))
    try:
        runner, url = await start(host, port)
    except OSError as exc:
        runner, url = await start(host, 0)
        from etl.demo.loader import demo_base_url, repoint

        # Another process holds the port (its own demo server has another secret): move the demo data here.
        try:
            moved = await sync_to_async(repoint, thread_sensitive=True)(demo_base_url(), url)
        except Exception:
            log.exception("etl demo server: could not move the demo URLs to %s", url)
            moved = 0
        log.warning(
            "etl demo server: port %s unavailable (%s); listening at %s instead (%s demo system/credential URLs "
            "moved; set ETL_DEMO_SERVER_PORT to keep a fixed port)",
            port,
            exc.strerror,
            url,
            moved,
        )
    tg.create_task(_serve_until_cancelled(runner))
    return url
