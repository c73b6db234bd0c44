"""SMS: `SMS_PROVIDER=console` (sandbox: records each message) or `textlocal`.

`send(to=, body=, redact=(…))`: `redact` names the parts of the body that are secrets (a
sign-in code). Only the console sandbox, which is allowed only under `DEBUG` or
`SANDBOX_PROVIDERS=1`, records the message whole in `OutboundMessage`: that is how demos and
tests read their codes (`manage.py sms_outbox`). A real adapter records what it sent with the
secrets masked, and no adapter writes a message body to the log.
"""

import logging
from collections.abc import Sequence
from typing import Protocol

from django.conf import settings

from integrations.http import HttpAdapter, log_sandbox_call
from integrations.models import OutboundMessage

logger = logging.getLogger(__name__)

MASK = "******"


class SmsSender(Protocol):
    def send(self, *, to: str, body: str, redact: Sequence[str] = ()) -> None: ...


def masked(body: str, redact: Sequence[str]) -> str:
    for secret in redact:
        if secret:
            body = body.replace(secret, MASK)
    return body


class ConsoleSms:
    """Deterministic sandbox: nothing leaves the machine. Each message becomes an
    `OutboundMessage` row (the Django admin's *Outbound messages*, `manage.py sms_outbox`)."""

    def send(self, *, to: str, body: str, redact: Sequence[str] = ()) -> None:
        message = OutboundMessage.objects.create(channel="sms", to=to, body=body)
        # The log says where to read it, never what it says.
        logger.info("sandbox SMS to %s recorded as outbound message %s", to, message.pk)
        log_sandbox_call(service="sms", provider="console", operation="send")


class TextlocalSms(HttpAdapter):
    service = "sms"
    provider = "textlocal"

    def __init__(self, **kwargs):
        self.api_key = settings.TEXTLOCAL_API_KEY
        self.sender = settings.TEXTLOCAL_SENDER
        super().__init__(secrets=[self.api_key], **kwargs)
        self.url = settings.TEXTLOCAL_API_URL

    def send(self, *, to: str, body: str, redact: Sequence[str] = ()) -> None:
        # Sending is not idempotent: retried only if the request never left. A secret of the body
        # is redacted from whatever the call log keeps, like the API key.
        self.secrets = [*self.secrets, *(secret for secret in redact if secret)]
        response = self.request(
            "send", "POST", self.url, idempotent=False,
            data={"apikey": self.api_key, "numbers": to.lstrip("+"), "sender": self.sender, "message": body},
        )
        payload = response.json()
        if payload.get("status") != "success":
            from integrations.errors import IntegrationError

            raise IntegrationError(f"textlocal refused the message: {payload.get('errors')}", service="sms",
                                   operation="send")
        OutboundMessage.objects.create(channel="sms", to=to, body=masked(body, redact))
