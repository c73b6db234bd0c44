"""accounts validates the staff user list's filters with its own words for an onboarding step
(it must not import kyc); every status the KYC app can report must be one of them."""

from accounts.enums import OnboardingStepStatus
from kyc.enums import BankAccountStatus, KYCStatus


def test_every_kyc_and_bank_status_is_an_onboarding_step_status():
    reported = {*KYCStatus.values, *BankAccountStatus.values, "not_started"}
    assert reported <= set(OnboardingStepStatus.values), reported - set(OnboardingStepStatus.values)
