import re
import uuid

from django.conf import settings

from core import context

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the NUM_PROXIES-th hop from the right of
    X-Forwarded-For when the app runs behind that many trusted proxies."""
    if settings.NUM_PROXIES:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= settings.NUM_PROXIES:
            return hops[-settings.NUM_PROXIES]
    return request.META.get("REMOTE_ADDR")


class RequestIdMiddleware:
    """Takes `X-Request-ID` from the client (if it is sane) or makes one, exposes it to
    logs and audit events, and returns it on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = context.set_current(context.RequestContext(request_id=request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


def error_response(*, status: int, code: str, detail: str, attr: str | None = None, kind: str = "client_error"):
    """API.md's error shape, for the few refusals made before DRF sees the request."""
    from django.http import JsonResponse

    return JsonResponse({"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}, status=status)


class RequestLimitsMiddleware:
    """Two refusals no view should have to remember, made before anything reads the request:

    - a body announced larger than `REQUEST_MAX_BYTES` → 413 (the JSON parser also stops at
      `API_JSON_MAX_BYTES`, and a chunked body is read only that far);
    - a NUL character in the path or a query parameter → 400: PostgreSQL cannot hold one in
      text, so it could only ever end in an error further down.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_MAX_BYTES:
            return error_response(status=413, code="request_too_large",
                                  detail=f"The request body is larger than {settings.REQUEST_MAX_BYTES} bytes.")
        if "\x00" in request.path:
            return error_response(status=400, code="null_characters_not_allowed", kind="validation_error",
                                  detail="The path contains a NUL character.")
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return error_response(status=400, code="null_characters_not_allowed", kind="validation_error",
                                      detail="Query parameters cannot contain NUL characters.", attr=name)
        return self.get_response(request)


STAFF_PATH_PREFIXES = ("/admin/", "/api/v1/admin/", "/api/v1/verifier/")


class StaffNetworkMiddleware:
    """With `STAFF_ALLOWED_NETWORKS` set, the staff endpoints answer only clients in those
    networks (the client IP as everywhere: `client_ip`, `NUM_PROXIES`); from anywhere else they
    are a 404, as if they did not exist. Empty (the default): no restriction."""

    def __init__(self, get_response):
        import ipaddress

        self.get_response = get_response
        self.networks = [ipaddress.ip_network(network.strip(), strict=False)
                         for network in settings.STAFF_ALLOWED_NETWORKS if network.strip()]

    def __call__(self, request):
        if self.networks and request.path.startswith(STAFF_PATH_PREFIXES) and not self._allowed(request):
            return error_response(status=404, code="not_found", detail="Not found.")
        return self.get_response(request)

    def _allowed(self, request) -> bool:
        import ipaddress

        try:
            address = ipaddress.ip_address(client_ip(request) or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)
