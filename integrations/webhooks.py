"""Signed webhooks: HMAC-SHA256 over the raw body, compared in constant time, and a
timestamp tolerance so a captured delivery cannot be replayed days later. (Replays inside the
tolerance are stopped by the receiver, which deduplicates on the provider's event id.)"""

import hashlib
import hmac
import time
from collections.abc import Mapping

from django.conf import settings


class WebhookInvalid(Exception):
    """A delivery we refuse. `reason`: signature, stale or malformed."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def hmac_sha256(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def require_signature(*, secret: str, message: bytes, signature: str | None) -> None:
    if not secret:
        raise WebhookInvalid("signature", "No webhook secret is configured; every delivery is refused.")
    if not signature or not hmac.compare_digest(hmac_sha256(secret, message), signature.strip()):
        raise WebhookInvalid("signature", "The webhook signature does not match.")


def require_fresh(timestamp, *, now: float | None = None) -> int:
    """The delivery's time (Unix seconds) must be within `WEBHOOK_TOLERANCE_SECONDS` of now."""
    try:
        moment = int(timestamp)
    except (TypeError, ValueError):
        raise WebhookInvalid("malformed", "The webhook has no valid timestamp.") from None
    now = time.time() if now is None else now
    if abs(now - moment) > settings.WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookInvalid("stale", "The webhook timestamp is outside the allowed window.")
    return moment


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup for plain dicts as well as Django's HttpHeaders."""
    if name in headers:
        return headers[name]
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None
