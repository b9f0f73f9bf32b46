"""ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from etl.routing import VIEW_PERMISSION as ETL_VIEW_PERMISSION  # noqa: E402
from resync_site.middleware import CorrelationIdASGIMiddleware  # noqa: E402
from resync_site.routing import websocket_urlpatterns  # noqa: E402
from resync_site.ws_auth import TokenAuthMiddleware  # noqa: E402
from resync_site.ws_origin import OriginCheckMiddleware  # noqa: E402
from resync_site.ws_standing import StandingMiddleware  # noqa: E402
from resync_site.ws_threads import ConnectionThreadMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": CorrelationIdASGIMiddleware(django_asgi_app),
        "websocket": ConnectionThreadMiddleware(
            OriginCheckMiddleware(
                AuthMiddlewareStack(
                    TokenAuthMiddleware(
                        # Every websocket route today is etl's live log: its view permission is the one to keep.
                        StandingMiddleware(URLRouter(websocket_urlpatterns), permission=ETL_VIEW_PERMISSION)
                    )
                )
            )
        ),
    }
)
