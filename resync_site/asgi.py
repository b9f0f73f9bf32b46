"""ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from resync_site.middleware import CorrelationIdASGIMiddleware  # noqa: E402
from resync_site.routing import websocket_urlpatterns  # noqa: E402
from resync_site.ws_auth import TokenAuthMiddleware  # noqa: E402
from resync_site.ws_threads import ConnectionThreadMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": CorrelationIdASGIMiddleware(django_asgi_app),
        "websocket": ConnectionThreadMiddleware(
            AllowedHostsOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns))))
        ),
    }
)
