"""The HTTP boundary to HWA: httpx + retry + breaker + timeout, errors mapped, secrets kept out."""

from __future__ import annotations

import functools
import ssl
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from core.redaction import redact_text, register_secret
from tws import metrics
from tws.exceptions import (
    CircuitOpenError,
    TWSAuthenticationError,
    TWSBadRequestError,
    TWSConflictError,
    TWSConnectionError,
    TWSError,
    TWSNotFoundError,
    TWSServerError,
    TWSTimeoutError,
    TWSTransientError,
)
from tws.hwa.resilience import CircuitBreaker, RetryWithBackoff, TimeoutManager
from tws.hwa.settings import TWSSettings

TRANSIENT_STATUSES = {429, 502, 503, 504}


@functools.cache
def _tls_context(verify: bool) -> ssl.SSLContext:
    # Building a TLS context costs milliseconds; share one per process across reconnects.
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@dataclass
class Resilience:
    """The breaker, retry policy and timeouts shared by every transport of one client."""

    breaker: CircuitBreaker
    retry: RetryWithBackoff
    timeouts: TimeoutManager
    stats: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("calls", "errors", "v2_calls", "v2_errors"), 0)
    )

    @classmethod
    def from_settings(cls, settings: TWSSettings) -> Resilience:
        """Return the resilience configured by ``settings``."""
        return cls(
            breaker=CircuitBreaker(
                window=settings.breaker_window,
                min_calls=settings.breaker_min_calls,
                failure_ratio=settings.breaker_failure_ratio,
                consecutive_failures=settings.breaker_consecutive_failures,
                reset_seconds=settings.breaker_reset_seconds,
                half_open_calls=settings.breaker_half_open_calls,
            ),
            retry=RetryWithBackoff(
                attempts=settings.retry_attempts,
                base_seconds=settings.retry_backoff_base_seconds,
                max_seconds=settings.retry_backoff_max_seconds,
                retry_after_cap=settings.retry_after_cap_seconds,
            ),
            timeouts=TimeoutManager(default_seconds=settings.timeout_seconds),
        )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _hwa_message(response: httpx.Response) -> str:
    try:
        messages = response.json().get("messages") or []
        text = str(messages[0]) if messages else ""
    except (ValueError, AttributeError):
        text = ""
    return redact_text(text[:300]) or f"HTTP {response.status_code}"


def raise_for_status(response: httpx.Response, operation: str) -> None:
    """Map an HWA error answer to the matching ``TWSError``."""
    status = response.status_code
    if status < 400:
        return
    message = f"TWS {operation}: {_hwa_message(response)}"
    if status in (401, 403):
        raise TWSAuthenticationError(f"TWS refused the credentials ({status}) during {operation}")
    if status == 404:
        raise TWSNotFoundError(message)
    if status == 409:
        raise TWSConflictError(message)
    if status == 400:
        raise TWSBadRequestError(message)
    if status in TRANSIENT_STATUSES:
        raise TWSTransientError(
            message, http_status=status, retry_after=_retry_after(response.headers.get("Retry-After"))
        )
    raise TWSServerError(message, http_status=status)


class TWSTransport:
    """One httpx client to one HWA server, every request resilient and timed."""

    def __init__(self, settings: TWSSettings, resilience: Resilience | None = None) -> None:
        self.settings = settings
        self.resilience = resilience or Resilience.from_settings(settings)
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"TWSTransport(base_url={self.settings.base_url!r}, open={self._http is not None})"

    def _auth(self) -> httpx.BasicAuth:
        # The one place the password is revealed: the basic-auth header.
        secret = self.settings.password.get_secret_value()
        register_secret(secret)
        auth = httpx.BasicAuth(self.settings.username, secret)
        register_secret(auth._auth_header.split(" ", 1)[-1])
        return auth

    async def open(self) -> None:
        """Create the HTTP client (no request is sent)."""
        if self._http is None:
            s = self.settings
            self._http = httpx.AsyncClient(
                base_url=s.base_url.rstrip("/"),
                auth=self._auth(),
                verify=_tls_context(s.verify_tls),
                timeout=httpx.Timeout(s.timeout_seconds, connect=s.connect_timeout_seconds),
                limits=httpx.Limits(max_connections=s.max_connections, max_keepalive_connections=s.max_connections),
                headers={"Accept": "application/json", "User-Agent": "resync-tws/1"},
            )

    async def close(self) -> None:
        """Close the HTTP client."""
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    async def _send(self, operation: str, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Response:
        http = self._http
        if http is None:
            raise TWSConnectionError("the TWS client is disconnected")
        try:
            response = await http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise TWSTimeoutError(f"TWS {operation}: no answer in time") from None
        except httpx.TransportError as exc:
            raise TWSConnectionError(f"TWS {operation}: connection failed ({type(exc).__name__})") from None
        raise_for_status(response, operation)
        return response

    async def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one logical request (retried, guarded by the breaker, timed) and return the answer."""
        r = self.resilience
        kwargs: dict[str, Any] = {"params": params, "headers": headers}
        if json is not None:
            kwargs["json"] = json

        async def send() -> httpx.Response:
            return await self._send(operation, method, path, kwargs)

        async def timed() -> httpx.Response:
            return await r.timeouts.with_timeout(send)

        async def attempt() -> httpx.Response:
            return await r.breaker.call(timed)

        started = time.perf_counter()
        outcome = "cancelled"
        try:
            response = await r.retry.execute(attempt)
            outcome = "success"
            return response
        except CircuitOpenError:
            outcome = "circuit_open"
            raise
        except TWSAuthenticationError:
            outcome = "auth_error"
            raise
        except (TWSNotFoundError, TWSConflictError, TWSBadRequestError):
            outcome = "client_error"
            raise
        except TWSError:
            outcome = "error"
            raise
        finally:
            failed = outcome in ("error", "circuit_open")
            r.stats["calls"] += 1
            r.stats["errors"] += failed
            if path.startswith("/twsd/api/v2"):
                r.stats["v2_calls"] += 1
                r.stats["v2_errors"] += failed
            metrics.REQUESTS.labels(operation=operation, outcome=outcome).inc()
            metrics.LATENCY.observe(time.perf_counter() - started)
