from django.db import models


class PartyKind(models.TextChoices):
    ANCHOR = "anchor", "Anchor"
    SELLER = "seller", "Seller"
    BOTH = "both", "Anchor and seller"


class PartyRole(models.TextChoices):
    ADMINISTRATOR = "administrator", "Administrator"
    SUPERVISOR = "supervisor", "Supervisor"


class ProgramKind(models.TextChoices):
    APF = "APF", "Approved payable finance"
    RF = "RF", "Receivable finance"
    DF = "DF", "Dealer finance"


# Which side of an invoice the anchor is on, by program kind. APF finances the anchor's
# suppliers (anchor buys); RF and DF finance the anchor's sales to its buyers/dealers
# (anchor sells). The other side must be an active counterparty of the program.
ANCHOR_IS_BUYER = frozenset({ProgramKind.APF})


class ProgramStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


PROGRAM_TRANSITIONS = {
    ProgramStatus.DRAFT: {ProgramStatus.ACTIVE},
    ProgramStatus.ACTIVE: {ProgramStatus.SUSPENDED},
    ProgramStatus.SUSPENDED: {ProgramStatus.ACTIVE},
}


class InvoiceStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    FINANCE_REQUESTED = "finance_requested", "Finance requested"
    FINANCED = "financed", "Financed"
    PARTIALLY_SETTLED = "partially_settled", "Partially settled"
    SETTLED = "settled", "Settled"
    OVERDUE = "overdue", "Overdue"


class FinanceRequestStatus(models.TextChoices):
    AWAITING_SIGNATURES = "awaiting_signatures", "Awaiting signatures"
    APPROVED = "approved", "Approved"
    DISBURSED = "disbursed", "Disbursed"
    REPAID = "repaid", "Repaid"
    OVERDUE = "overdue", "Overdue"
    REJECTED = "rejected", "Rejected"


# Requests that hold part of a limit (released on rejection or as principal is repaid).
OPEN_STATUSES = (
    FinanceRequestStatus.AWAITING_SIGNATURES,
    FinanceRequestStatus.APPROVED,
    FinanceRequestStatus.DISBURSED,
    FinanceRequestStatus.OVERDUE,
)
# Requests with money out that businesses still owe.
OUTSTANDING_STATUSES = (FinanceRequestStatus.DISBURSED, FinanceRequestStatus.OVERDUE)

# Labels of the signature steps (DESIGN.md §5: initial → A → B → C).
SIGNATURE_STEP_LABELS = {1: "initial", 2: "A", 3: "B", 4: "C"}
MAX_SIGNATURES = 4


class WorkflowAction(models.TextChoices):
    REQUESTED = "requested", "Requested"
    IMPORTED = "imported", "Imported from the primary platform"
    SIGNED = "signed", "Signed"
    REJECTED = "rejected", "Rejected"
    DISBURSED = "disbursed", "Disbursed"
    REPAYMENT = "repayment", "Repayment received"
    OVERDUE = "overdue", "Marked overdue"
    OVERDUE_INTEREST = "overdue_interest", "Overdue interest accrued"


class RepaymentSource(models.TextChoices):
    ADMIN = "admin", "Recorded by an admin"
    PRIMARY = "primary", "Imported from the primary platform"
