"""Whether the sandbox payment page may exist (imported by config/urls.py, so it loads no views)."""

from django.conf import settings

from integrations.registry import sandboxes_allowed


def sandbox_payment_page_enabled() -> bool:
    """The page credits a wallet for a click: only with the sandbox as the payment provider, and
    only where sandboxes are allowed (DEBUG, or SANDBOX_PROVIDERS=1)."""
    return settings.PAYMENT_PROVIDER == "sandbox" and sandboxes_allowed()
