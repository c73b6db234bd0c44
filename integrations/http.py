"""The base every HTTP adapter builds on: httpx with timeouts, bounded retries, secret
redaction and one `ApiCall` row per call.

Retries: an idempotent call is retried on a timeout, a connection failure or a 5xx, up to
`INTEGRATION_MAX_RETRIES` times with exponential backoff and jitter. A non-idempotent call
is retried only when the request never left (connection refused), because after a timeout
or a 5xx the provider may have acted on it. Never call this inside a database transaction.

httpx is imported when an adapter is built, not with this module: it pulls in its command
line (rich) and takes ~0.1 s, which every process would pay at start-up for adapters that
the sandbox providers never build.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings

from core import context
from integrations.errors import IntegrationError, IntegrationTimeout
from integrations.models import ApiCall

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

SECRET_NAMES = re.compile(
    r"(api[_-]?key|apikey|token|secret|password|authorization|signature|pan|account[_-]?number|otp)", re.I
)


def redact(value: Any) -> Any:
    """Copy of a JSON-like value with secret-looking fields replaced by '***'."""
    if isinstance(value, Mapping):
        return {k: "***" if SECRET_NAMES.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def redact_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class HttpAdapter:
    service = ""
    provider = ""

    def __init__(self, *, base_url: str = "", timeout: float | None = None, max_retries: int | None = None,
                 secrets: list[str] | None = None, transport: httpx.BaseTransport | None = None):
        import httpx

        self.timeout = settings.INTEGRATION_TIMEOUT_SECONDS if timeout is None else timeout
        self.max_retries = settings.INTEGRATION_MAX_RETRIES if max_retries is None else max_retries
        self.secrets = [s for s in (secrets or []) if s]
        self.client = httpx.Client(base_url=base_url, timeout=self.timeout, transport=transport)

    def request(self, operation: str, method: str, url: str, *, idempotent: bool, **kwargs) -> httpx.Response:
        import httpx

        started = time.monotonic()
        attempts = 0
        last_error = ""
        while True:
            attempts += 1
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                last_error = f"timeout: {exc}"
                if idempotent and attempts <= self.max_retries:
                    self._backoff(attempts)
                    continue
                self._log(operation, ApiCall.Outcome.TIMEOUT, None, started, attempts, last_error)
                raise IntegrationTimeout(
                    f"{self.service} {operation} timed out", service=self.service, operation=operation, retryable=True
                ) from exc
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                # A refused connection means nothing was sent: safe to retry any call.
                if (idempotent or isinstance(exc, httpx.ConnectError)) and attempts <= self.max_retries:
                    self._backoff(attempts)
                    continue
                self._log(operation, ApiCall.Outcome.ERROR, None, started, attempts, last_error)
                raise IntegrationError(
                    f"{self.service} {operation} failed: {type(exc).__name__}",
                    service=self.service, operation=operation, retryable=True,
                ) from exc
            if response.status_code >= 500 and idempotent and attempts <= self.max_retries:
                last_error = f"HTTP {response.status_code}"
                self._backoff(attempts)
                continue
            if response.status_code >= 400:
                error = f"HTTP {response.status_code}: {response.text[:500]}"
                self._log(operation, ApiCall.Outcome.ERROR, response.status_code, started, attempts, error)
                raise IntegrationError(
                    f"{self.service} {operation} answered {response.status_code}",
                    service=self.service, operation=operation,
                    retryable=response.status_code >= 500 or response.status_code == 429,
                    status=response.status_code,
                )
            self._log(operation, ApiCall.Outcome.OK, response.status_code, started, attempts, "")
            return response

    def _backoff(self, attempt: int) -> None:
        time.sleep(min(2.0, 0.1 * 2 ** (attempt - 1)) * (0.5 + random.random()))

    def _log(self, operation, outcome, http_status, started, attempts, error) -> None:
        latency_ms = int((time.monotonic() - started) * 1000)
        error = redact_text(error, self.secrets)
        logger.info(
            "outside call",
            extra={"service": self.service, "provider": self.provider, "operation": operation,
                   "outcome": outcome, "http_status": http_status, "latency_ms": latency_ms},
        )
        ApiCall.objects.create(
            service=self.service, provider=self.provider, operation=operation, outcome=outcome,
            http_status=http_status, latency_ms=latency_ms, attempts=attempts, error=error[:2000],
            request_id=context.current().request_id,
        )


def log_sandbox_call(*, service: str, provider: str, operation: str, outcome: str = ApiCall.Outcome.OK,
                     error: str = "") -> None:
    """Sandboxes log their calls too, so the API status page looks the same in the demo."""
    ApiCall.objects.create(
        service=service, provider=provider, operation=operation, outcome=outcome, latency_ms=0,
        error=error, request_id=context.current().request_id,
    )
