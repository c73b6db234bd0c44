"""Email through Django's `EMAIL_BACKEND` (console by default, SMTP in production).

Every send is logged as an `ApiCall`. The console/locmem/file backends are sandboxes: they
also record an `OutboundMessage` (the demo's inbox) and log via `log_sandbox_call`.
Never call this inside a database transaction.
"""

import logging
import smtplib
import time
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail

from core import context
from integrations.errors import IntegrationError
from integrations.http import log_sandbox_call
from integrations.models import ApiCall, OutboundMessage
from integrations.registry import SANDBOX_EMAIL_BACKENDS, email_backend_name

logger = logging.getLogger(__name__)


class EmailSender(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> None: ...


class DjangoEmail:
    service = "email"

    def __init__(self):
        # "django.core.mail.backends.smtp.EmailBackend" → "smtp"
        self.provider = email_backend_name(settings.EMAIL_BACKEND)

    def send(self, *, to: str, subject: str, body: str) -> None:
        started = time.monotonic()
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            # A refused recipient will be refused again; anything else may be transient.
            retryable = not isinstance(exc, smtplib.SMTPRecipientsRefused)
            self._log(ApiCall.Outcome.ERROR, started, f"{type(exc).__name__}: {exc}")
            raise IntegrationError(f"email send failed: {type(exc).__name__}", service="email",
                                   operation="send", retryable=retryable) from exc
        if self.provider in SANDBOX_EMAIL_BACKENDS:
            OutboundMessage.objects.create(channel="email", to=to, body=f"{subject}\n\n{body}")
            log_sandbox_call(service="email", provider=self.provider, operation="send")
        else:
            self._log(ApiCall.Outcome.OK, started, "")

    def _log(self, outcome: str, started: float, error: str) -> None:
        ApiCall.objects.create(
            service="email", provider=self.provider, operation="send", outcome=outcome,
            latency_ms=int((time.monotonic() - started) * 1000), error=error[:2000],
            request_id=context.current().request_id,
        )
