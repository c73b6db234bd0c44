from django.db import models


class KYCKind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    COMPANY = "company", "Company"


class KYCStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    PENDING = "pending", "Pending"
    MANUAL_REVIEW = "manual_review", "Manual review"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


class BankAccountStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"


class DocumentKind(models.TextChoices):
    PAN_CARD = "pan_card", "PAN card"
    AADHAAR = "aadhaar", "Aadhaar (masked)"
    ADDRESS_PROOF = "address_proof", "Address proof"
    INCORPORATION_CERTIFICATE = "incorporation_certificate", "Certificate of incorporation"
    BANK_STATEMENT = "bank_statement", "Bank statement or cancelled cheque"
    OTHER = "other", "Other"
