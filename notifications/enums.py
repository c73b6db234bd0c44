from django.db import models


class NotificationKind(models.TextChoices):
    KYC_VERIFIED = "kyc_verified", "KYC verified"
    KYC_REJECTED = "kyc_rejected", "KYC rejected"
    KYC_MANUAL_REVIEW = "kyc_manual_review", "KYC in manual review"
    DEPOSIT_CREDITED = "deposit_credited", "Deposit credited"
    DEPOSIT_REJECTED = "deposit_rejected", "Deposit rejected"
    WITHDRAWAL_PAID = "withdrawal_paid", "Withdrawal paid"
    WITHDRAWAL_FAILED = "withdrawal_failed", "Withdrawal failed"
    TRADE_EXECUTED = "trade_executed", "Trade executed"
    BID_RECEIVED = "bid_received", "Bid received"
    BID_ACCEPTED = "bid_accepted", "Bid accepted"
    BID_REJECTED = "bid_rejected", "Bid rejected"
    BID_EXPIRED = "bid_expired", "Bid expired"
    DISTRIBUTION_PAID = "distribution_paid", "Repayment received"
    OFFERING_DEFAULTED = "offering_defaulted", "Offering defaulted"
    IMPERSONATION_STARTED = "impersonation_started", "Support session started"


class DeliveryChannel(models.TextChoices):
    IN_APP = "in_app", "In app"
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


K = NotificationKind
C = DeliveryChannel

# Money movements and security events: always shown in the app, whatever the preference.
ALWAYS_IN_APP = frozenset(
    {
        K.DEPOSIT_CREDITED, K.DEPOSIT_REJECTED, K.WITHDRAWAL_PAID, K.WITHDRAWAL_FAILED,
        K.TRADE_EXECUTED, K.BID_ACCEPTED, K.DISTRIBUTION_PAID, K.OFFERING_DEFAULTED,
        K.IMPERSONATION_STARTED,
    }
)

# Defaults when the user has not chosen: in-app for everything; SMS for what is urgent or
# security-relevant; email for what someone may want on record.
_SMS_BY_DEFAULT = frozenset(
    {K.KYC_VERIFIED, K.KYC_REJECTED, K.DEPOSIT_CREDITED, K.WITHDRAWAL_PAID, K.WITHDRAWAL_FAILED,
     K.OFFERING_DEFAULTED, K.IMPERSONATION_STARTED}
)
_EMAIL_BY_DEFAULT = frozenset(
    {K.KYC_VERIFIED, K.KYC_REJECTED, K.KYC_MANUAL_REVIEW, K.DEPOSIT_CREDITED, K.DEPOSIT_REJECTED,
     K.WITHDRAWAL_PAID, K.WITHDRAWAL_FAILED, K.TRADE_EXECUTED, K.DISTRIBUTION_PAID, K.OFFERING_DEFAULTED,
     K.IMPERSONATION_STARTED}
)


def default_enabled(kind: str, channel: str) -> bool:
    if channel == C.IN_APP:
        return True
    if channel == C.SMS:
        return kind in _SMS_BY_DEFAULT
    return kind in _EMAIL_BY_DEFAULT


def is_locked(kind: str, channel: str) -> bool:
    """A locked preference is always on and cannot be turned off."""
    return channel == C.IN_APP and kind in ALWAYS_IN_APP
