from django.db import models


class DeclarationForm(models.TextChoices):
    FORM_15G = "15G", "Form 15G"
    FORM_15H = "15H", "Form 15H (senior citizen)"


class DeclarationStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class DeductionReason(models.TextChoices):
    DEDUCTED = "deducted", "Tax deducted"
    DECLARATION = "declaration", "No deduction: Form 15G/15H"


class TaxRuleKind(models.TextChoices):
    INTEREST = "interest", "Interest other than on securities (resident)"
