"""ASGI entry point: the `ws` process (uvicorn) serves WebSockets under /ws/.

HTTP is routed here too so one process can serve everything in development (`make run`),
but production sends only /ws/ to this process: HTTP goes to the `web` process (gunicorn's
sync workers, which the buy benchmark measures), where a sync DRF view needs no hand-off
between the event loop and a thread.

WebSockets are authenticated by the access JWT, never by cookies, so a cross-site page
cannot ride on a user's session; the Origin check would only refuse mobile clients (which
send no Origin), so it is not applied.
"""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)

from config.routing import websocket_urlpatterns  # noqa: E402

if settings.DEBUG:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
