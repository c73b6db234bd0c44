"""SMS: `SMS_PROVIDER=console` (sandbox: records and logs each message) or `textlocal`."""

import logging
from typing import Protocol

from django.conf import settings

from integrations.http import HttpAdapter, log_sandbox_call
from integrations.models import OutboundMessage

logger = logging.getLogger(__name__)


class SmsSender(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class ConsoleSms:
    """Deterministic sandbox: nothing leaves the machine. Each message becomes an
    `OutboundMessage` row (visible in the Django admin) and a log line, which is how a
    developer reads their OTP when running `make run`."""

    def send(self, *, to: str, body: str) -> None:
        OutboundMessage.objects.create(channel="sms", to=to, body=body)
        logger.warning("SMS to %s: %s", to, body)
        log_sandbox_call(service="sms", provider="console", operation="send")


class TextlocalSms(HttpAdapter):
    service = "sms"
    provider = "textlocal"

    def __init__(self, **kwargs):
        self.api_key = settings.TEXTLOCAL_API_KEY
        self.sender = settings.TEXTLOCAL_SENDER
        super().__init__(secrets=[self.api_key], **kwargs)
        self.url = settings.TEXTLOCAL_API_URL

    def send(self, *, to: str, body: str) -> None:
        # Sending is not idempotent: retried only if the request never left.
        response = self.request(
            "send", "POST", self.url, idempotent=False,
            data={"apikey": self.api_key, "numbers": to.lstrip("+"), "sender": self.sender, "message": body},
        )
        payload = response.json()
        if payload.get("status") != "success":
            from integrations.errors import IntegrationError

            raise IntegrationError(f"textlocal refused the message: {payload.get('errors')}", service="sms",
                                   operation="send")
