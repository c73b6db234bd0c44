from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import User


def onboarding_default(*, user: User) -> dict:
    """Until KYC exists nobody can trade. The KYC app replaces this through the
    `ONBOARDING_PROVIDER` setting (accounts must not import the apps built on it)."""
    return {"kyc_status": "not_started", "bank_status": "not_started", "wallet_ready": False, "can_trade": False}


def onboarding_status(*, user: User) -> dict:
    provider = import_string(getattr(settings, "ONBOARDING_PROVIDER", "accounts.selectors.onboarding_default"))
    return provider(user=user)
