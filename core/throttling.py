from rest_framework.throttling import AnonRateThrottle


class AuthBurstThrottle(AnonRateThrottle):
    """A coarse per-IP ceiling on the sign-in endpoints, on top of the per-phone and per-IP
    OTP limits the service enforces in the database (those are the ones that matter; this
    one only blunts floods before they reach the database)."""

    scope = "auth_burst"
    rate = "60/min"
