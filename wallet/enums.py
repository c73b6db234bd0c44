from django.db import models


class AccountKind(models.TextChoices):
    # Per investor
    AVAILABLE = "available", "Available"
    HELD = "held", "Held"
    PENDING_WITHDRAWAL = "pending_withdrawal", "Pending withdrawal"
    # System (owner is null)
    BANK = "bank", "Bank (money in and out of the platform)"
    FEES = "fees", "Fees"
    TDS_PAYABLE = "tds_payable", "TDS payable"
    LOAN_BOOK = "loan_book", "Loan book"
    PLATFORM_PROCEEDS = "platform_proceeds", "Platform proceeds"
    ESCROW = "escrow", "Escrow (per offering)"


USER_ACCOUNT_KINDS = (AccountKind.AVAILABLE, AccountKind.HELD, AccountKind.PENDING_WITHDRAWAL)
SYSTEM_ACCOUNT_KINDS = (
    AccountKind.BANK,
    AccountKind.FEES,
    AccountKind.TDS_PAYABLE,
    AccountKind.LOAN_BOOK,
    AccountKind.PLATFORM_PROCEEDS,
    AccountKind.ESCROW,
)


class EntryKind(models.TextChoices):
    """The wallet's own entry kinds. Other apps post their own (`trade.buy`, `distribution`)."""

    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL_REQUESTED = "withdrawal.requested", "Withdrawal requested"
    WITHDRAWAL_PAID = "withdrawal.paid", "Withdrawal paid"
    WITHDRAWAL_FAILED = "withdrawal.failed", "Withdrawal failed (returned)"
    WITHDRAWAL_REVERSED = "withdrawal.reversed", "Withdrawal reversed by the bank"
    HOLD = "hold", "Hold"
    RELEASE = "release", "Release"
    PAYMENT = "payment", "Payment"
    TRANSFER = "transfer", "Transfer"
    CREDIT = "credit", "Credit"
    DEBIT = "debit", "Debit"
    SYSTEM_TRANSFER = "system_transfer", "System transfer"


class DepositMethod(models.TextChoices):
    GATEWAY = "gateway", "Payment gateway"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    UPI = "upi", "UPI"
    CHEQUE = "cheque", "Cheque"
    CASH = "cash", "Cash"


OFFLINE_METHODS = (DepositMethod.BANK_TRANSFER, DepositMethod.UPI, DepositMethod.CHEQUE, DepositMethod.CASH)


class DepositStatus(models.TextChoices):
    PENDING = "pending", "Pending payment"
    PENDING_VERIFICATION = "pending_verification", "Pending verification"
    CREDITED = "credited", "Credited"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Payment failed"


class WithdrawalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed (returned to available)"
    REVERSED = "reversed", "Reversed by the bank (returned to available)"


class EventChannel(models.TextChoices):
    PAYMENTS = "payments", "Payments"
    PAYOUTS = "payouts", "Payouts"
