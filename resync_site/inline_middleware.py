"""Django's stock middleware without a thread hop per hook under ASGI.

Under ASGI, Django runs every hook of a ``MiddlewareMixin`` middleware (``process_request``,
``process_response``, ``process_view``, ``process_template_response``) on a worker thread through
``sync_to_async``. With this project's middleware list that was 23 thread hops for one API request,
about a third of its service time (docs/decisions/inline-middleware.md). The hooks of the classes
below only read and write the request and the response, so in async mode they run on the event
loop. The cases that can reach the database keep their thread: saving a modified session, storing
messages that were read or added, and the CSRF check of an unsafe request (it may read the body).
In sync mode (the test client, management commands) nothing changes.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Coroutine
from typing import Any

from asgiref.sync import sync_to_async
from csp.middleware import CSPMiddleware as _CSP
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as _Authentication
from django.contrib.messages.middleware import MessageMiddleware as _Messages
from django.contrib.sessions.middleware import SessionMiddleware as _Session
from django.http import HttpRequest, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware as _XFrameOptions
from django.middleware.common import CommonMiddleware as _Common
from django.middleware.csrf import CsrfViewMiddleware as _Csrf
from django.middleware.locale import LocaleMiddleware as _Locale
from django.middleware.security import SecurityMiddleware as _Security
from django_prometheus.middleware import PrometheusAfterMiddleware as _PrometheusAfter
from django_prometheus.middleware import PrometheusBeforeMiddleware as _PrometheusBefore

Hook = Callable[..., Any]
AsyncHook = Callable[..., Coroutine[Any, Any, Any]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _on_loop(hook: Hook) -> AsyncHook:
    """An async hook that runs ``hook`` on the event loop (the handler awaits async hooks as they are)."""

    async def run(*args: Any, **kwargs: Any) -> Any:
        return hook(*args, **kwargs)

    return run


def _bound(owner: object, hook: AsyncHook) -> AsyncHook:
    """Bind ``hook`` to ``owner``: Django names a hook's class through ``hook.__self__`` in its errors."""

    async def method(_owner: object, *args: Any, **kwargs: Any) -> Any:
        return await hook(*args, **kwargs)

    return types.MethodType(method, owner)


class InlineHooks:
    """Mixin placed before a ``MiddlewareMixin`` class: its hooks run inline in async mode."""

    async_mode: bool
    get_response: Any
    # Declared, not defined: each Django class has its own (hasattr tells which).
    process_request: Hook
    process_response: Hook

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)  # type: ignore[call-arg]
        if self.async_mode:
            # The handler reads these after construction and adapts sync ones with sync_to_async.
            for name in ("process_view", "process_template_response"):
                hook = getattr(self, name, None)
                if hook is not None:
                    setattr(self, name, _bound(self, self.async_hook(name, hook)))

    def async_hook(self, name: str, hook: Hook) -> AsyncHook:
        del name
        return _on_loop(hook)

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        """Whether ``process_response`` may do I/O for this exchange (then it runs on a thread)."""
        del request, response
        return False

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.process_request(request) if hasattr(self, "process_request") else None
        response = response or await self.get_response(request)
        if not hasattr(self, "process_response"):
            return response
        if self.response_needs_thread(request, response):
            return await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
        return self.process_response(request, response)


class PrometheusBeforeMiddleware(InlineHooks, _PrometheusBefore):
    pass


class PrometheusAfterMiddleware(InlineHooks, _PrometheusAfter):
    pass


class SecurityMiddleware(InlineHooks, _Security):
    pass


class SessionMiddleware(InlineHooks, _Session):
    """The session is loaded lazily on a thread by whoever reads it; only a save needs one here."""

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)


class LocaleMiddleware(InlineHooks, _Locale):
    pass


class CommonMiddleware(InlineHooks, _Common):
    pass


class CsrfViewMiddleware(InlineHooks, _Csrf):
    """Safe methods are accepted without reading anything; an unsafe one may read the form body."""

    def async_hook(self, name: str, hook: Hook) -> AsyncHook:
        if name != "process_view":
            return _on_loop(hook)
        threaded = sync_to_async(hook, thread_sensitive=True)

        async def process_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method in SAFE_METHODS:
                return hook(request, *args, **kwargs)
            return await threaded(request, *args, **kwargs)

        return process_view


class AuthenticationMiddleware(InlineHooks, _Authentication):
    """``request.user`` stays lazy: the user is loaded on the view's thread or by ``auser()``."""


class MessageMiddleware(InlineHooks, _Messages):
    """Messages read or added are stored through the session, which may need loading: use a thread."""

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and (storage.used or storage.added_new)


class XFrameOptionsMiddleware(InlineHooks, _XFrameOptions):
    pass


class CSPMiddleware(InlineHooks, _CSP):
    """Content-Security-Policy on every response (django-csp): it only writes a header."""
