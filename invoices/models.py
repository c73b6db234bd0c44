"""Primary platform: parties, programs and their limits, invoices, finance requests.

Design in brief (DESIGN.md §5):

- Every row belongs to one `accounts.Organization` (the tenant); `organization` is the first
  column of every unique constraint and index, and every read goes through a selector that
  scopes to the caller's organization.
- A `Program` has an anchor `Party` and `Counterparty` rows (the other side of its
  invoices), each with its own limit. `used_limit` on both is what open finance requests
  hold; it changes only under `SELECT … FOR UPDATE` of the program then the counterparty,
  so concurrent requests can never together exceed a limit. The CHECK constraints below
  are the last line of defence, not the first.
- A `FinanceRequest` finances one `Invoice`. Its terms are fixed when it is created
  (finance amount, rate, tenor, interest, net disbursal, signatures needed) and re-dated
  at disbursal. Signatures are `FinanceRequestSignature` rows, one per step, and every
  change of state is an append-only `WorkflowEvent` (a trigger refuses UPDATE/DELETE on
  PostgreSQL).
- Money: disbursal and repayments are ledger entries in the wallet (`bank`, `loan_book`,
  `fees`); the amounts on these rows are the business view of the same numbers.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Organization
from core.crypto import EncryptedTextField, blind_index, mask
from core.money import ZERO, MoneyField, money_expression
from invoices.enums import (
    MAX_SIGNATURES,
    FinanceRequestStatus,
    InvoiceStatus,
    PartyKind,
    PartyRole,
    ProgramKind,
    ProgramStatus,
    RepaymentSource,
    WorkflowAction,
)

RATE_DIGITS = {"max_digits": 7, "decimal_places": 4}  # annual percent, e.g. 12.5000


class Party(models.Model):
    """A business: an anchor (large buyer or seller) or an SME seller, or both."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    legal_name = models.CharField(max_length=200)
    # Encrypted at rest and masked in every response (DESIGN.md section 8); looked up and kept
    # unique through their blind indexes. `party_identifiers()` fills all four.
    pan = EncryptedTextField(help_text="Business PAN (validated; also embedded in the GSTIN).")
    pan_index = models.CharField(max_length=64, help_text="Blind index of the PAN (core.crypto).")
    gstin = EncryptedTextField(blank=True)
    gstin_index = models.CharField(max_length=64, blank=True, help_text="Blind index of the GSTIN; empty without one.")
    kind = models.CharField(max_length=8, choices=PartyKind.choices)
    signatures_required = models.PositiveSmallIntegerField(
        default=1, help_text="How many signatures (1-4) this party's finance requests need."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(fields=("organization", "pan_index"), name="invoices_party_org_pan_index_uniq"),
            models.UniqueConstraint(fields=("organization", "gstin_index"), condition=~Q(gstin_index=""),
                                    name="invoices_party_org_gstin_index_uniq"),
            models.CheckConstraint(condition=~Q(pan_index=""), name="invoices_party_pan_index_set"),
            models.CheckConstraint(condition=Q(signatures_required__gte=1, signatures_required__lte=MAX_SIGNATURES),
                                   name="invoices_party_signatures_1_4"),
        ]
        indexes = [models.Index(fields=("organization", "legal_name"), name="invoices_party_org_name_idx")]

    def __str__(self) -> str:
        return self.legal_name

    @property
    def masked_pan(self) -> str:
        return mask(self.pan)

    @property
    def masked_gstin(self) -> str:
        return mask(self.gstin)


def party_identifiers(*, pan: str, gstin: str) -> dict[str, str]:
    """A party's PAN and GSTIN (already validated) with their blind indexes, as model fields."""
    return {"pan": pan, "pan_index": blind_index(pan),
            "gstin": gstin, "gstin_index": blind_index(gstin) if gstin else ""}


class PartyMembership(models.Model):
    """A user who acts for a party. Administrators and supervisors may request finance and
    sign its requests."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="party_memberships")
    role = models.CharField(max_length=16, choices=PartyRole.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=("organization", "party", "user"), name="invoices_partymember_uniq"),
        ]
        indexes = [models.Index(fields=("organization", "user"), name="invoices_pm_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} for {self.party} ({self.role})"


class Program(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=3, choices=ProgramKind.choices)
    anchor = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="anchored_programs")
    max_limit_amount = MoneyField()
    used_limit = MoneyField(default=ZERO, help_text="Finance held by open requests (changes under a row lock).")
    max_invoice_amount = MoneyField(help_text="The part of an invoice's amount that can be financed at most.")
    max_invoice_percent = models.DecimalField(max_digits=5, decimal_places=2,
                                              help_text="Percent of the (capped) invoice amount financed.")
    interest_rate = models.DecimalField(**RATE_DIGITS, help_text="Annual percent, simple, on a 365-day year.")
    min_tenor_days = models.PositiveIntegerField()
    max_tenor_days = models.PositiveIntegerField()
    grace_days = models.PositiveIntegerField(default=0)
    overdue_rate = models.DecimalField(**RATE_DIGITS, help_text="Annual percent charged on overdue principal.")
    status = models.CharField(max_length=10, choices=ProgramStatus.choices, default=ProgramStatus.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=("organization", "name"), name="invoices_program_org_name_uniq"),
            models.CheckConstraint(condition=Q(max_limit_amount__gt=0), name="invoices_program_limit_positive"),
            models.CheckConstraint(condition=Q(used_limit__gte=0, used_limit__lte=F("max_limit_amount")),
                                   name="invoices_program_used_within_limit"),
            models.CheckConstraint(condition=Q(max_invoice_amount__gt=0), name="invoices_program_max_invoice_pos"),
            models.CheckConstraint(condition=Q(max_invoice_percent__gt=0, max_invoice_percent__lte=100),
                                   name="invoices_program_percent_0_100"),
            models.CheckConstraint(condition=Q(interest_rate__gte=0, overdue_rate__gte=0),
                                   name="invoices_program_rates_not_negative"),
            models.CheckConstraint(condition=Q(min_tenor_days__gte=1, min_tenor_days__lte=F("max_tenor_days")),
                                   name="invoices_program_tenor_range"),
        ]
        indexes = [models.Index(fields=("organization", "status"), name="invoices_program_status_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def available_limit(self):
        return self.max_limit_amount - self.used_limit


class Counterparty(models.Model):
    """The non-anchor side of a program's invoices (a supplier under APF, a buyer or dealer
    under RF and DF), with its own limit inside the program's."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="counterparties")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="counterparty_of")
    limit_amount = MoneyField()
    used_limit = MoneyField(default=ZERO)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        verbose_name_plural = "counterparties"
        constraints = [
            models.UniqueConstraint(fields=("organization", "program", "party"), name="invoices_counterparty_uniq"),
            models.CheckConstraint(condition=Q(limit_amount__gt=0), name="invoices_counterparty_limit_positive"),
            models.CheckConstraint(condition=Q(used_limit__gte=0, used_limit__lte=F("limit_amount")),
                                   name="invoices_counterparty_used_within_limit"),
        ]
        indexes = [models.Index(fields=("organization", "party"), name="invoices_cp_party_idx")]

    def __str__(self) -> str:
        return f"{self.party} in {self.program}"

    @property
    def available_limit(self):
        return self.limit_amount - self.used_limit


def invoice_upload_path(instance, filename: str) -> str:
    # A random name (core.uploads): the client's file name never reaches the storage path.
    from core.uploads import upload_path

    return upload_path(f"invoices/{instance.organization_id}", filename)


class Invoice(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="invoices")
    seller = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="invoices_sold")
    buyer = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="invoices_bought")
    number = models.CharField(max_length=64)
    amount = MoneyField()
    issue_date = models.DateField()
    due_date = models.DateField()
    file = models.FileField(upload_to=invoice_upload_path, blank=True)
    status = models.CharField(max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.UPLOADED)
    external_id = models.CharField(max_length=64, blank=True, help_text="Id on the primary platform, if imported.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=("organization", "seller", "number"), name="invoices_invoice_number_uniq"),
            models.UniqueConstraint(fields=("organization", "external_id"), condition=~Q(external_id=""),
                                    name="invoices_invoice_external_uniq"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoices_invoice_amount_positive"),
            models.CheckConstraint(condition=Q(due_date__gt=F("issue_date")), name="invoices_invoice_due_after_issue"),
            models.CheckConstraint(condition=~Q(seller=F("buyer")), name="invoices_invoice_two_parties"),
        ]
        indexes = [
            models.Index(fields=("organization", "status", "due_date"), name="invoices_invoice_status_idx"),
            models.Index(fields=("organization", "seller"), name="invoices_invoice_seller_idx"),
            models.Index(fields=("organization", "buyer"), name="invoices_invoice_buyer_idx"),
            models.Index(fields=("organization", "program"), name="invoices_invoice_program_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.seller})"

    @property
    def tenor_days(self) -> int:
        return (self.due_date - self.issue_date).days


class FinanceRequest(models.Model):
    """A request to finance one invoice. Status: awaiting_signatures → approved → disbursed
    → repaid | overdue (→ repaid), or rejected. At most one live (non-rejected) request per
    invoice."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="finance_requests")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="finance_requests")
    counterparty = models.ForeignKey(Counterparty, on_delete=models.PROTECT, related_name="finance_requests")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="finance_requests",
                              help_text="The party that asked (the invoice's seller); its members sign.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    status = models.CharField(max_length=20, choices=FinanceRequestStatus.choices,
                              default=FinanceRequestStatus.AWAITING_SIGNATURES)
    # Terms, fixed at request time (dates and interest re-fixed at disbursal).
    finance_amount = MoneyField()
    finance_percentage = models.DecimalField(max_digits=5, decimal_places=2)
    interest_rate = models.DecimalField(**RATE_DIGITS)
    overdue_rate = models.DecimalField(**RATE_DIGITS)
    grace_days = models.PositiveIntegerField()
    due_date = models.DateField()
    tenor_days = models.PositiveIntegerField()
    interest_amount = MoneyField()
    net_disbursal_amount = MoneyField()
    signatures_required = models.PositiveSmallIntegerField()
    signatures_count = models.PositiveSmallIntegerField(default=0)
    # Money actually moved.
    disbursed_on = models.DateField(null=True, blank=True)
    disbursed_at = models.DateTimeField(null=True, blank=True)
    principal_repaid = MoneyField(default=ZERO)
    overdue_interest = MoneyField(default=ZERO)
    overdue_interest_repaid = MoneyField(default=ZERO)
    overdue_interest_through = models.DateField(null=True, blank=True,
                                                help_text="Overdue interest is accrued up to this day.")
    overdue_since = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=("organization", "invoice"),
                                    condition=~Q(status=FinanceRequestStatus.REJECTED),
                                    name="invoices_financerequest_one_live"),
            models.CheckConstraint(condition=Q(finance_amount__gt=0), name="invoices_fr_amount_positive"),
            models.CheckConstraint(condition=Q(net_disbursal_amount__gt=0, interest_amount__gte=0),
                                   name="invoices_fr_net_positive"),
            models.CheckConstraint(condition=Q(principal_repaid__gte=0, principal_repaid__lte=F("finance_amount")),
                                   name="invoices_fr_principal_repaid_range"),
            models.CheckConstraint(
                condition=Q(overdue_interest_repaid__gte=0, overdue_interest_repaid__lte=F("overdue_interest")),
                name="invoices_fr_interest_repaid_range",
            ),
            models.CheckConstraint(
                condition=Q(signatures_required__lte=MAX_SIGNATURES, signatures_count__lte=F("signatures_required")),
                name="invoices_fr_signatures_range",
            ),
        ]
        indexes = [
            models.Index(fields=("organization", "status", "due_date"), name="invoices_fr_status_idx"),
            models.Index(fields=("organization", "party", "status"), name="invoices_fr_party_idx"),
            models.Index(fields=("organization", "program", "status"), name="invoices_fr_program_idx"),
        ]

    def __str__(self) -> str:
        return f"Finance request {self.pk} for {self.invoice_id}"

    @property
    def outstanding_principal(self):
        return self.finance_amount - self.principal_repaid

    @property
    def outstanding_interest(self):
        return self.overdue_interest - self.overdue_interest_repaid

    @property
    def outstanding_amount(self):
        return self.outstanding_principal + self.outstanding_interest

    @property
    def repaid_amount(self):
        return self.principal_repaid + self.overdue_interest_repaid


class FinanceRequestSignature(models.Model):
    """One step of the signature chain. Step n is signed only after step n-1, by a member
    who has not signed this request yet (both enforced by constraints too)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    finance_request = models.ForeignKey(FinanceRequest, on_delete=models.PROTECT, related_name="signatures")
    step = models.PositiveSmallIntegerField()
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, choices=PartyRole.choices)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("step",)
        constraints = [
            models.UniqueConstraint(fields=("organization", "finance_request", "step"), name="invoices_signature_step"),
            models.UniqueConstraint(fields=("organization", "finance_request", "signer"),
                                    name="invoices_signature_signer"),
            models.CheckConstraint(condition=Q(step__gte=1, step__lte=MAX_SIGNATURES), name="invoices_signature_1_4"),
        ]

    def __str__(self) -> str:
        return f"Step {self.step} of request {self.finance_request_id} by {self.signer_id}"


class WorkflowEvent(models.Model):
    """Append-only history of a finance request: who did what, when, from which state to
    which. Never updated or deleted (a PostgreSQL trigger refuses both)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    finance_request = models.ForeignKey(FinanceRequest, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    action = models.CharField(max_length=20, choices=WorkflowAction.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=("organization", "finance_request", "id"), name="invoices_event_fr_idx")]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_status or '-'} → {self.to_status}"


class Repayment(models.Model):
    """Money received against a financed invoice. Idempotent by `reference` within the
    organization: the same reference twice is the same repayment."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    finance_request = models.ForeignKey(FinanceRequest, on_delete=models.PROTECT, related_name="repayments")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="repayments")
    amount = MoneyField()
    principal_amount = MoneyField()
    interest_amount = MoneyField(help_text="Part applied to overdue interest (applied first).")
    received_on = models.DateField()
    reference = models.CharField(max_length=64)
    source = models.CharField(max_length=8, choices=RepaymentSource.choices, default=RepaymentSource.ADMIN)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=("organization", "reference"), name="invoices_repayment_reference_uniq"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoices_repayment_amount_positive"),
            models.CheckConstraint(condition=Q(amount=money_expression(F("principal_amount") + F("interest_amount"))),
                                   name="invoices_repayment_parts_add_up"),
        ]
        indexes = [models.Index(fields=("organization", "finance_request"), name="invoices_repayment_fr_idx")]

    def __str__(self) -> str:
        return f"{self.amount} on {self.received_on} ({self.reference})"

