from rest_framework.throttling import AnonRateThrottle

from core.middleware import client_ip


class AuthBurstThrottle(AnonRateThrottle):
    """A coarse per-IP ceiling on the sign-in endpoints, on top of the per-phone and per-IP
    OTP limits the service enforces in the database (those are the ones that matter; this
    one only blunts floods before they reach the database).

    Keyed on the same client IP as everything else (`core.middleware.client_ip`, trusting
    exactly `NUM_PROXIES` hops of X-Forwarded-For): DRF's own `get_ident` read the header a
    client sets, so a new made-up address per request was a new bucket."""

    scope = "auth_burst"
    rate = "60/min"

    def get_ident(self, request):
        return client_ip(request) or "unknown"
