"""Which implementation serves each outside service, by setting. Later apps add theirs."""

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


def get_adapter(service: str):
    setting, providers = ADAPTERS[service]
    provider = getattr(settings, setting)
    try:
        path = providers[provider]
    except KeyError:
        raise LookupError(f"{setting}={provider!r} is not one of {', '.join(providers)}") from None
    return import_string(path)()
