"""Which implementation serves each outside service, by setting. Later apps add theirs.

The registry also says which providers are sandboxes (nothing leaves the machine, and the
answers are made up: a sandbox payment credits a wallet for a click) and which settings a
real provider needs. `config.production` refuses to start with `DEBUG` off while any sandbox
is chosen, unless `SANDBOX_PROVIDERS=1` says the deployment means it (demos, staging, load
tests); then `integrations.middleware` marks every response and the admin shows a banner.
This module is imported while the settings load: it must not touch models or settings at
import time.
"""

from collections.abc import Mapping

from django.conf import settings
from django.utils.module_loading import import_string

ADAPTERS: dict[str, tuple[str, dict[str, str]]] = {
    # service: (setting name, {provider: import path})
    "sms": ("SMS_PROVIDER", {"console": "integrations.sms.ConsoleSms", "textlocal": "integrations.sms.TextlocalSms"}),
    "email": ("EMAIL_PROVIDER", {"django": "integrations.email.DjangoEmail"}),
    "kyc": ("KYC_PROVIDER", {"sandbox": "integrations.kyc.SandboxKyc", "signzy": "integrations.kyc.SignzyKyc"}),
    "bank": (
        "BANK_PROVIDER", {"sandbox": "integrations.bank.SandboxBank", "razorpayx": "integrations.bank.RazorpayXBank"}
    ),
    "payments": (
        "PAYMENT_PROVIDER",
        {"sandbox": "integrations.payments.SandboxPayments", "razorpay": "integrations.payments.RazorpayPayments"},
    ),
    "payouts": (
        "PAYOUT_PROVIDER",
        {"sandbox": "integrations.payouts.SandboxPayouts", "razorpayx": "integrations.payouts.RazorpayXPayouts"},
    ),
    "primary": (
        "PRIMARY_PROVIDER", {"local": "integrations.primary.LocalPrimary", "http": "integrations.primary.HttpPrimary"}
    ),
}

# service: the providers that are sandboxes. A new app's adapter (a paper broker) adds its own.
SANDBOXES: dict[str, frozenset[str]] = {
    "sms": frozenset({"console"}),
    "kyc": frozenset({"sandbox"}),
    "bank": frozenset({"sandbox"}),
    "payments": frozenset({"sandbox"}),
    "payouts": frozenset({"sandbox"}),
}
# Email goes through Django's EMAIL_BACKEND; these backends deliver nothing.
SANDBOX_EMAIL_BACKENDS = ("console", "locmem", "filebased", "dummy")

# (service, provider): the settings that provider cannot work without (checked with DEBUG off).
REQUIRED_SETTINGS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sms", "textlocal"): ("TEXTLOCAL_API_KEY",),
    ("kyc", "signzy"): ("SIGNZY_API_KEY",),
    ("bank", "razorpayx"): ("RAZORPAYX_KEY_ID", "RAZORPAYX_KEY_SECRET", "RAZORPAYX_ACCOUNT_NUMBER"),
    ("payments", "razorpay"): ("RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET"),
    ("payouts", "razorpayx"): ("RAZORPAYX_KEY_ID", "RAZORPAYX_KEY_SECRET", "RAZORPAYX_ACCOUNT_NUMBER",
                               "RAZORPAYX_WEBHOOK_SECRET"),
    ("primary", "http"): ("PRIMARY_API_URL", "PRIMARY_API_TOKEN"),
}


def email_backend_name(backend: str) -> str:
    """"django.core.mail.backends.smtp.EmailBackend" → "smtp"."""
    parts = backend.rsplit(".", 2)
    return parts[-2] if len(parts) >= 2 else backend


def sandbox_services(values: Mapping | None = None) -> dict[str, str]:
    """{service: provider} for every service a sandbox serves, read from `values` (a settings
    namespace while the settings load) or from the live settings."""
    if values is None:
        values = {name: getattr(settings, name, "") for name in _NAMES}
    found = {}
    for service, (setting, _providers) in ADAPTERS.items():
        provider = values.get(setting, "")
        if provider in SANDBOXES.get(service, ()):
            found[service] = provider
    if values.get("EMAIL_PROVIDER") == "django":
        backend = email_backend_name(values.get("EMAIL_BACKEND", ""))
        if backend in SANDBOX_EMAIL_BACKENDS:
            found["email"] = backend
    return found


def sandboxes_allowed() -> bool:
    """A sandbox may serve: in development (`DEBUG`) or where the deployment says so."""
    return bool(settings.DEBUG or getattr(settings, "SANDBOX_PROVIDERS", False))


def missing_provider_settings(values: Mapping) -> list[str]:
    """"SETTING (needed by service=provider)" for every empty setting a chosen provider needs."""
    missing = []
    for service, (setting, _providers) in ADAPTERS.items():
        provider = values.get(setting, "")
        for name in REQUIRED_SETTINGS.get((service, provider), ()):
            if not values.get(name):
                missing.append(f"{name} (needed by {setting}={provider})")
    return missing


_NAMES = tuple({setting for setting, _ in ADAPTERS.values()} | {"EMAIL_BACKEND"})


def get_adapter(service: str):
    setting, providers = ADAPTERS[service]
    provider = getattr(settings, setting)
    try:
        path = providers[provider]
    except KeyError:
        raise LookupError(f"{setting}={provider!r} is not one of {', '.join(providers)}") from None
    if provider in SANDBOXES.get(service, ()) and not sandboxes_allowed():
        # Start-up refuses this already (config.production); a setting changed at run time must not
        # slip a sandbox into production either.
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{setting}={provider} is a sandbox; set SANDBOX_PROVIDERS=1 to allow it.")
    return import_string(path)()
