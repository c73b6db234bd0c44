"""KYC profiles, their documents and bank accounts.

A user has at most one `KYCProfile`. Its status moves
`not_started → pending → verified | manual_review | rejected` (manual review ends in verified
or rejected by staff; a rejected profile may be submitted again). PAN and GSTIN (which embeds
the PAN) are encrypted; `pan_index` is their keyed hash, unique, so a PAN belongs to one user.

A `BankAccount` moves `pending → verified | failed` by penny drop; at most one per user is
primary (a partial unique index), and only a verified account becomes primary.

Verification calls outside services, so it never runs inside a transaction: a row is
*claimed* (`attempts`, `next_attempt_at` bumped under its lock), the provider is called, and
the result is applied under the lock again only if the row is still pending.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.crypto import EncryptedTextField, mask
from kyc.enums import BankAccountStatus, DocumentKind, KYCKind, KYCStatus


class KYCProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="kyc_profile")
    kind = models.CharField(max_length=16, choices=KYCKind.choices, default=KYCKind.INDIVIDUAL)
    full_name = models.CharField(max_length=150)
    pan = EncryptedTextField()
    pan_index = models.CharField(max_length=64, unique=True, help_text="HMAC of the PAN (blind index).")
    date_of_birth = models.DateField(null=True, blank=True)
    address = models.TextField(blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    incorporation_date = models.DateField(null=True, blank=True)
    gstin = EncryptedTextField(blank=True)
    aadhaar_last4 = models.CharField(max_length=4, blank=True)

    status = models.CharField(max_length=16, choices=KYCStatus.choices, default=KYCStatus.PENDING, db_index=True)
    status_reason = models.CharField(max_length=255, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    registered_name = models.CharField(max_length=200, blank=True, help_text="Name on the PAN, per the provider.")
    name_match = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    submitted_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "KYC profile"
        ordering = ("-submitted_at", "-id")
        indexes = [
            models.Index(fields=("status", "submitted_at")),
            models.Index(
                fields=("next_attempt_at",), name="kyc_profile_due_idx", condition=models.Q(status="pending")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="individual") | ~models.Q(company_name=""), name="kyc_company_has_name"
            ),
        ]

    def __str__(self) -> str:
        return f"KYC {self.legal_name} ({self.status})"

    @property
    def legal_name(self) -> str:
        """The name a bank account must match: the company's for a company."""
        return self.company_name if self.kind == KYCKind.COMPANY else self.full_name

    @property
    def masked_pan(self) -> str:
        return mask(self.pan)

    @property
    def masked_gstin(self) -> str:
        return mask(self.gstin, visible=3) if self.gstin else ""


def _document_path(instance: "KYCDocument", filename: str) -> str:
    # Never the user's file name or id in the path: nothing to learn from a storage listing.
    return f"kyc/{uuid.uuid4().hex}{instance.extension}"


class KYCDocument(models.Model):
    EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="kyc_documents")
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    file = models.FileField(upload_to=_document_path, max_length=200)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "KYC document"
        ordering = ("-id",)
        indexes = [models.Index(fields=("user", "uploaded_at"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of user {self.user_id}"

    @property
    def extension(self) -> str:
        return self.EXTENSIONS.get(self.content_type, "")


class BankAccount(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bank_accounts")
    account_number = EncryptedTextField()
    account_index = models.CharField(max_length=64, help_text="HMAC of IFSC and account number (blind index).")
    ifsc = models.CharField(max_length=11)
    holder_name = models.CharField(max_length=150)
    status = models.CharField(max_length=16, choices=BankAccountStatus.choices, default=BankAccountStatus.PENDING)
    status_reason = models.CharField(max_length=255, blank=True)
    is_primary = models.BooleanField(default=False)
    registered_name = models.CharField(max_length=200, blank=True, help_text="Name at the bank, per penny drop.")
    name_match = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-is_primary", "-id")
        indexes = [
            models.Index(fields=("user", "status")),
            models.Index(
                fields=("next_attempt_at",), name="kyc_bank_due_idx", condition=models.Q(status="pending")
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=("user", "account_index"), name="kyc_bank_account_once_per_user"),
            models.UniqueConstraint(
                fields=("user",), condition=models.Q(is_primary=True), name="kyc_one_primary_bank_account"
            ),
            models.CheckConstraint(
                condition=~models.Q(is_primary=True) | models.Q(status="verified"),
                name="kyc_primary_bank_account_is_verified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ifsc} {self.masked_account_number} ({self.status})"

    @property
    def masked_account_number(self) -> str:
        return mask(self.account_number)
