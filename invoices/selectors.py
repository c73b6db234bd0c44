"""Every read of the primary platform, scoped to the caller's organization and parties.

Visibility (within the caller's organization, resolved by `accounts.tenancy`):
- organization admins see everything in their organization;
- members see their own parties, and the parties, programs and counterparties of the
  programs their parties take part in (as anchor or counterparty), so they can name a buyer;
- members see invoices and finance requests where one of their parties is seller or buyer.
Anything else, and anything of another organization, is a 404 (`NotFound`).
"""

from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from accounts.tenancy import Tenant, get_in_organization, scope_to_tenant
from core.errors import InvalidState, NotFound
from core.money import ZERO
from invoices import terms
from invoices.enums import OUTSTANDING_STATUSES, FinanceRequestStatus, InvoiceStatus
from invoices.models import (
    Counterparty,
    FinanceRequest,
    FinanceRequestSignature,
    Invoice,
    Party,
    PartyMembership,
    Program,
    Repayment,
    WorkflowEvent,
)


def _my_party_ids(tenant: Tenant) -> QuerySet:
    return PartyMembership.objects.filter(organization=tenant.organization, user=tenant.user).values("party_id")


def _my_program_ids(tenant: Tenant) -> QuerySet:
    mine = _my_party_ids(tenant)
    return Program.objects.filter(
        Q(anchor__in=mine) | Q(counterparties__party__in=mine), organization=tenant.organization
    ).values("id")


# --- Parties ----------------------------------------------------------------------------

def party_list(*, tenant: Tenant) -> QuerySet[Party]:
    parties = scope_to_tenant(Party.objects.all(), tenant=tenant)
    if not tenant.is_admin:
        programs = _my_program_ids(tenant)
        parties = parties.filter(
            Q(pk__in=_my_party_ids(tenant))
            | Q(anchored_programs__in=programs)
            | Q(counterparty_of__program__in=programs)
        ).distinct()
    return parties.order_by("id")


def party_get(*, tenant: Tenant, party_id) -> Party:
    return get_in_organization(party_list(tenant=tenant), tenant=tenant, pk=party_id, label="party")


def party_get_own(*, tenant: Tenant, party_id) -> Party:
    """A party the caller acts for (or any party, for an admin): members, dashboard."""
    parties = Party.objects.all() if tenant.is_admin else Party.objects.filter(pk__in=_my_party_ids(tenant))
    return get_in_organization(parties, tenant=tenant, pk=party_id, label="party")


def party_member_list(*, party: Party) -> QuerySet[PartyMembership]:
    return PartyMembership.objects.filter(organization_id=party.organization_id, party=party).select_related(
        "user").order_by("id")


def party_ids_for_user(*, tenant: Tenant) -> list[int]:
    """The parties the caller may act for as a signatory (administrator or supervisor)."""
    return list(_my_party_ids(tenant).values_list("party_id", flat=True))


# --- Programs ---------------------------------------------------------------------------

def program_list(*, tenant: Tenant) -> QuerySet[Program]:
    programs = scope_to_tenant(Program.objects.select_related("anchor"), tenant=tenant)
    if not tenant.is_admin:
        programs = programs.filter(pk__in=_my_program_ids(tenant))
    return programs.order_by("id")


def program_get(*, tenant: Tenant, program_id) -> Program:
    return get_in_organization(program_list(tenant=tenant), tenant=tenant, pk=program_id, label="program")


def counterparty_list(*, tenant: Tenant, program: Program) -> QuerySet[Counterparty]:
    counterparties = scope_to_tenant(Counterparty.objects.select_related("party"), tenant=tenant).filter(
        program=program)
    if not tenant.is_admin and not PartyMembership.objects.filter(
        organization=tenant.organization, user=tenant.user, party_id=program.anchor_id
    ).exists():
        counterparties = counterparties.filter(party__in=_my_party_ids(tenant))
    return counterparties.order_by("id")


def counterparty_get(*, tenant: Tenant, program: Program, counterparty_id) -> Counterparty:
    return get_in_organization(counterparty_list(tenant=tenant, program=program), tenant=tenant,
                               pk=counterparty_id, label="counterparty")


# --- Invoices and finance requests ------------------------------------------------------

def invoice_list(*, tenant: Tenant, status: str | None = None) -> QuerySet[Invoice]:
    invoices = scope_to_tenant(Invoice.objects.select_related("seller", "buyer", "program"), tenant=tenant)
    if not tenant.is_admin:
        mine = _my_party_ids(tenant)
        invoices = invoices.filter(Q(seller__in=mine) | Q(buyer__in=mine))
    if status:
        invoices = invoices.filter(status=status)
    return invoices.order_by("-id")


def invoice_get(*, tenant: Tenant, invoice_id) -> Invoice:
    return get_in_organization(invoice_list(tenant=tenant), tenant=tenant, pk=invoice_id, label="invoice")


def _finance_request_queryset() -> QuerySet[FinanceRequest]:
    return FinanceRequest.objects.select_related("invoice", "party", "program").prefetch_related(
        Prefetch("signatures", queryset=FinanceRequestSignature.objects.order_by("step")),
    )


def finance_request_list(*, tenant: Tenant, status: str | None = None) -> QuerySet[FinanceRequest]:
    requests = scope_to_tenant(_finance_request_queryset(), tenant=tenant)
    if not tenant.is_admin:
        mine = _my_party_ids(tenant)
        requests = requests.filter(Q(invoice__seller__in=mine) | Q(invoice__buyer__in=mine))
    if status:
        requests = requests.filter(status=status)
    return requests.order_by("-id")


def finance_request_get(*, tenant: Tenant, finance_request_id) -> FinanceRequest:
    return get_in_organization(finance_request_list(tenant=tenant), tenant=tenant, pk=finance_request_id,
                               label="finance request")


def finance_request_events(*, finance_request: FinanceRequest) -> QuerySet[WorkflowEvent]:
    return WorkflowEvent.objects.filter(organization_id=finance_request.organization_id,
                                        finance_request=finance_request).select_related("actor").order_by("id")


def repayment_list(*, invoice: Invoice) -> QuerySet[Repayment]:
    return Repayment.objects.filter(organization_id=invoice.organization_id, invoice=invoice).order_by("id")


def finance_request_lock_for_offering(*, organization, invoice_id: int) -> FinanceRequest:
    """The hand-over to the marketplace (trading's `offering_configure`): the invoice's latest
    finance request, locked FOR UPDATE in the caller's transaction, with its invoice; only a
    disbursed one can be cut into units. Another organization's invoice is a 404."""
    request = (
        FinanceRequest.objects.select_for_update(of=("self",))
        .select_related("invoice", "invoice__seller")
        .filter(organization=organization, invoice_id=invoice_id)
        .order_by("-id")
        .first()
    )
    if request is None:
        raise NotFound("No such invoice.")
    if request.status != FinanceRequestStatus.DISBURSED:
        raise InvalidState("Only an invoice whose finance has been disbursed can be fractionalized.")
    return request


def financed_invoice_get(*, organization_id: int, invoice_id: int) -> Invoice:
    """For other apps (the marketplace's offerings): a financed invoice, not scoped to a user."""
    invoice = Invoice.objects.filter(organization_id=organization_id, pk=invoice_id).first()
    if invoice is None:
        raise NotFound("No such invoice.")
    return invoice


# --- Dashboards -------------------------------------------------------------------------

def _money(value) -> Decimal:
    return value if value is not None else ZERO


def _outstanding(requests: QuerySet[FinanceRequest]) -> dict:
    totals = requests.filter(status__in=OUTSTANDING_STATUSES).aggregate(
        financed=Sum("finance_amount"), principal_repaid=Sum("principal_repaid"),
        interest=Sum("overdue_interest"), interest_repaid=Sum("overdue_interest_repaid"),
        count=Count("id"),
    )
    overdue = requests.filter(status=FinanceRequestStatus.OVERDUE).aggregate(
        financed=Sum("finance_amount"), principal_repaid=Sum("principal_repaid"),
        interest=Sum("overdue_interest"), interest_repaid=Sum("overdue_interest_repaid"), count=Count("id"),
    )

    def owed(row):
        return (_money(row["financed"]) - _money(row["principal_repaid"]) + _money(row["interest"])
                - _money(row["interest_repaid"]))

    return {"outstanding_amount": owed(totals), "outstanding_count": totals["count"],
            "overdue_amount": owed(overdue), "overdue_count": overdue["count"]}


def _limit_row(*, limit: Decimal, used: Decimal) -> dict:
    return {"limit": limit, "used": used, "available": limit - used,
            "utilization_percent": terms.utilization_percent(used=used, limit=limit)}


def program_utilization(*, tenant: Tenant, program_id) -> dict:
    """A program's limit, used, available and utilization (used / limit * 100), what is
    outstanding and overdue, and the same per counterparty the caller may see."""
    program = program_get(tenant=tenant, program_id=program_id)
    counterparties = list(counterparty_list(tenant=tenant, program=program))
    requests = FinanceRequest.objects.filter(organization=tenant.organization, program=program)
    by_counterparty = {
        row["counterparty_id"]: row
        for row in requests.filter(status=FinanceRequestStatus.OVERDUE).values("counterparty_id").annotate(
            count=Count("id"))
    }
    return {
        "program": program,
        **_limit_row(limit=program.max_limit_amount, used=program.used_limit),
        **_outstanding(requests),
        "counterparties": [
            {"id": cp.pk, "party": cp.party, "is_active": cp.is_active,
             **_limit_row(limit=cp.limit_amount, used=cp.used_limit),
             "overdue_count": by_counterparty.get(cp.pk, {}).get("count", 0)}
            for cp in counterparties
        ],
    }


def party_dashboard(*, tenant: Tenant, party_id) -> dict:
    """One party's view: invoices by status, what it owes and what is overdue, signatures
    waiting, and the limits it has as a counterparty."""
    party = party_get_own(tenant=tenant, party_id=party_id)
    invoices = Invoice.objects.filter(organization=tenant.organization, seller=party)
    counts = dict(invoices.values_list("status").annotate(count=Count("id")))
    requests = FinanceRequest.objects.filter(organization=tenant.organization, party=party)
    limits = Counterparty.objects.filter(organization=tenant.organization, party=party).select_related("program")
    return {
        "party": party,
        "invoices": {status: counts.get(status, 0) for status in InvoiceStatus.values},
        **_outstanding(requests),
        "awaiting_signatures": requests.filter(status=FinanceRequestStatus.AWAITING_SIGNATURES).count(),
        "limits": [
            {"program_id": cp.program_id, "program": cp.program.name, "is_active": cp.is_active,
             **_limit_row(limit=cp.limit_amount, used=cp.used_limit)}
            for cp in limits.order_by("id")
        ],
    }
