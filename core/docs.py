"""The API's documentation pages: the OpenAPI schema, Swagger UI, ReDoc and the root page.

The schema describes code, so it cannot change while a process runs: it is generated on the
first request (about half a second, more on a busy host) and each rendering (YAML, JSON)
is kept for the life of the process. Swagger UI and ReDoc load every asset from our own
static files (drf-spectacular-sidecar) and no font from the internet, so the docs work
offline and leak no visitor to a third party.
"""

import threading

from django.http import HttpResponse
from django.views.generic import TemplateView
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView


class SchemaView(SpectacularAPIView):
    """`/api/schema/`: generated once per process, then served from memory."""

    _rendered: dict[tuple, tuple[bytes, str, str]] = {}
    _lock = threading.Lock()

    @classmethod
    def forget(cls) -> None:
        """Drop what was kept (tests that change what the schema is built from)."""
        cls._rendered.clear()

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, request.GET.get("lang"), request.accepted_media_type)
        cached = self._rendered.get(key)
        if cached is None:
            with self._lock:  # one generation per process, however many requests arrive at once
                cached = self._rendered.get(key)
                if cached is None:
                    response = self.finalize_response(request, super().get(request, *args, **kwargs))
                    response.render()
                    cached = (response.content, response["Content-Type"], response["Content-Disposition"])
                    self._rendered[key] = cached
        content, content_type, disposition = cached
        return HttpResponse(content, content_type=content_type, headers={"Content-Disposition": disposition})


class RedocView(SpectacularRedocView):
    """ReDoc without drf-spectacular's Google Fonts links (system fonts instead). Its bundle
    also shows a logo from Redocly's CDN in the menu; the page's Content-Security-Policy keeps
    the browser from fetching it (or anything else from outside) and the template hides it."""

    template_name = "core/redoc.html"
    # ReDoc runs its search in a worker built from a blob and styles itself inline.
    CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self' 'unsafe-inline' blob:; worker-src 'self' blob:; "
                               "font-src 'self' data:; connect-src 'self'")

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = self.CONTENT_SECURITY_POLICY
        return response


class HomeView(TemplateView):
    """`/`: what this server is and where to go (docs, admin, health)."""

    template_name = "core/home.html"
