"""The one NinjaAPI at /api/: routers of every app and the error mapping."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig
from django.db.utils import InterfaceError as DatabaseInterfaceError
from django.db.utils import OperationalError as DatabaseOperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from audit.api import router as audit_router
from cachemig.api import router as cachemig_router
from core.errors import PayloadTooLarge, RateLimited, ResyncError
from etl.api import router as etl_router
from resync_site.auth import API_AUTH
from resync_site.health import liveness_payload
from resync_site.openapi import declare_errors
from tws.api import router as tws_router


def _docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Open /api/docs and /api/openapi.json to staff only, unless RESYNC_API_DOCS_PUBLIC (development)."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if settings.RESYNC_API_DOCS_PUBLIC or (user.is_active and user.is_staff):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)

    return guarded


class ResyncAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document declares every error answer with the one error body."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        return declare_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


api = ResyncAPI(
    title="Resync API",
    version="1.0",
    description="Operations console for HCL Workload Automation and the ETL pipelines.",
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=_docs_access,
)
api.add_router("/audit", audit_router)
api.add_router("/flags", cachemig_router)
api.add_router("/tws", tws_router)
api.add_router("", etl_router)  # the React frontend's paths: /api/sistemas, /api/jobs, ...


def error(request: HttpRequest, status: int, detail: Any, code: str, **extra: Any) -> HttpResponse:
    """Return the one error body shape: ``{"detail": ..., "code": ...}``."""
    return api.create_response(request, {"detail": detail, "code": code, **extra}, status=status)


_SOURCES = ("body", "query", "path", "form", "header", "cookie", "file")


def _field_name(loc: list[Any]) -> str:
    """Return the field as the client sent it: ``["body", "payload", "path"]`` is ``path``, ``["query", "q"]`` ``q``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        source, parts = parts[0], parts[1:]
        if source in ("body", "form") and len(parts) > 1:
            parts = parts[1:]  # the view's parameter (``payload``), not a name the client knows
    return ".".join(parts) or ".".join(str(p) for p in loc)


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"field": _field_name(list(e.get("loc", []))), "message": e.get("msg", "invalid")} for e in exc.errors]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid input"
    return error(request, 422, detail, "validation_error", errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(request, 401, "authentication required: log in or send a valid API token", "not_authenticated")


@api.exception_handler(AuthorizationError)
def _forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return error(request, 403, str(exc.message) or "permission denied", "forbidden")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        401: "not_authenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "payload_too_large",
        429: "rate_limited",
    }
    return error(request, exc.status_code, str(exc), codes.get(exc.status_code, "error"))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(request, 404, str(exc) or "not found", "not_found")


@api.exception_handler(ResyncError)
def _domain(request: HttpRequest, exc: ResyncError) -> HttpResponse:
    response = error(request, exc.status_code, str(exc), exc.code)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # Django's own limit, read as the body streams in (chunked bodies included).
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _domain(request, PayloadTooLarge(f"the request body exceeds the limit of {limit} bytes"))


@api.exception_handler(DatabaseOperationalError)
@api.exception_handler(DatabaseInterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    import logging

    # An outage, not a defect: one line per request (no traceback), a 503 the client may retry.
    logging.getLogger("resync.api").warning(
        "database unavailable in %s: %s", request.path, type(exc).__name__, extra={"error": str(exc)[:200]}
    )
    response = error(
        request,
        503,
        "the database is unavailable; try again shortly",
        "database_unavailable",
        correlation_id=getattr(request, "correlation_id", None),
    )
    response["Retry-After"] = "5"
    return response


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    import logging

    logging.getLogger("resync.api").exception("unhandled error in %s", request.path)
    detail = f"{type(exc).__name__}: {exc}" if settings.DEBUG else "internal error; see the logs"
    return error(request, 500, detail, "internal_error", correlation_id=getattr(request, "correlation_id", None))


class MeOut(Schema):
    username: str
    roles: list[str]
    is_staff: bool
    permissions: list[str]
    language: str


@api.get("/me", response=MeOut, tags=["auth"], summary="Who is calling, with roles and permissions")
def me(request: HttpRequest) -> dict[str, Any]:
    """Return the authenticated user, their roles and permissions (the React app hides what they cannot do)."""
    user = request.user
    return {
        "username": user.get_username(),
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "is_staff": bool(user.is_staff),
        "permissions": sorted(user.get_all_permissions()),
        "language": getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
    }


class LanguageIn(Schema):
    language: Literal["pt-br", "en"]


@api.put("/me/language", response=MeOut, tags=["auth"], summary="Choose the interface language (pt-br or en)")
def me_language(request: HttpRequest, payload: LanguageIn, response: HttpResponse) -> dict[str, Any]:
    """Store the caller's language in the language cookie; the UI defaults to pt-BR."""
    translation.activate(payload.language)
    request.LANGUAGE_CODE = payload.language
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        payload.language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.PRODUCTION,
    )
    return me(request)


@api.get("/dashboard", tags=["dashboard"], summary="Cards of the operations dashboard the caller may see")
def dashboard(request: HttpRequest) -> dict[str, Any]:
    from resync_site.dashboard import collect

    return collect(request.user)


@api.get("/health", auth=None, tags=["health"], summary="Liveness (no I/O)")
def health(request: HttpRequest) -> dict[str, Any]:
    """Return liveness, as /health does."""
    return liveness_payload()
