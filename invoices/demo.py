"""Demo primary platform: an anchor buyer, an SME seller with two signatories, an APF
program, invoices, and financed ones (signed, disbursed, one partly repaid), all through the
services so the ledger and `reconcile` stay clean. Financed invoices are left for the
marketplace's demo to fractionalize (`world.financed_invoices`): one more than
`world.offerings` (at least three), so the admin's "unfractionalized" list is never empty.
The first is large (₹10,00,000, about 120 days) so that its holders' interest can cross the
TDS threshold in the marketplace demo."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from stdnum import luhn

from accounts.enums import Role
from accounts.models import User
from accounts.tenancy import organization_membership_ensure, platform_organization
from invoices import services
from invoices.enums import PartyKind, PartyRole, ProgramKind, ProgramStatus


def _gstin(pan: str) -> str:
    body = f"27{pan}1Z"
    return body + luhn.calc_check_digit(body, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def seed(world) -> None:
    organization = platform_organization()
    admin = world.users.get(Role.ADMIN)
    financed_count = max(3, world.offerings + 1)
    limit = Decimal(1000000 * (financed_count + 3))
    anchor = services.party_create(organization=organization, actor=admin, kind=PartyKind.ANCHOR,
                                   legal_name="Bharat Motors Ltd", pan="AABCB1234K", gstin=_gstin("AABCB1234K"))
    seller = services.party_create(organization=organization, actor=admin, kind=PartyKind.SELLER,
                                   legal_name="Shakti Components Pvt Ltd", pan="AAECS5678M", gstin=_gstin("AAECS5678M"),
                                   signatures_required=2)
    signatories = []
    for number, (name, role) in enumerate([("Demo SME Director", PartyRole.ADMINISTRATOR),
                                           ("Demo SME Finance Head", PartyRole.SUPERVISOR)], start=1):
        user, _ = User.objects.get_or_create(phone=f"+9192000000{number:02d}", defaults={"name": name})
        # Demo set-up joins them directly; a real SME user accepts an invitation (services.party_invite).
        organization_membership_ensure(organization=organization, user=user)
        services.party_member_add(party=seller, user=user, role=role, actor=admin)
        signatories.append(user)
        world.summary.append({"role": f"sme_{role}", "phone": user.phone, "party": seller.legal_name})
    program = services.program_create(
        organization=organization, actor=admin, name="Bharat Motors supplier finance", kind=ProgramKind.APF,
        anchor=anchor, max_limit_amount=limit, max_invoice_amount=Decimal("1000000.00"),
        max_invoice_percent=Decimal("90.00"), interest_rate=Decimal("12.5000"), min_tenor_days=15,
        max_tenor_days=120, grace_days=5, overdue_rate=Decimal("24.0000"),
    )
    services.program_set_status(program=program, status=ProgramStatus.ACTIVE, actor=admin)
    services.counterparty_add(program=program, party=seller, limit_amount=limit, actor=admin)

    today = timezone.localdate()
    invoices = []
    for number in range(1, financed_count + 3):
        if number == 1:
            amount, due_in = Decimal("1000000.00"), 115
        else:
            amount, due_in = Decimal(150000 + world.rng.randrange(0, 40) * 10000), 30 + (10 * number) % 90
        invoices.append(services.invoice_create(
            organization=organization, actor=signatories[0], seller=seller, buyer=anchor,
            number=f"SC/2026/{number:04d}", amount=amount, issue_date=today - timedelta(days=1 + number % 10),
            due_date=today + timedelta(days=due_in),
        ))
    financed = []
    for invoice in invoices[:financed_count]:
        request = services.finance_request_create(invoice=invoice, actor=signatories[0])
        for signer in signatories:
            services.finance_request_sign(finance_request=request, actor=signer)
        services.finance_request_disburse(finance_request=request, actor=admin)
        financed.append(invoice)
    services.repayment_record(invoice=financed[1], amount=Decimal("50000.00"), received_on=today,
                              reference="DEMO-UTR-0001", actor=admin)
    # One more awaiting its second signature, for the signing screens.
    pending = services.finance_request_create(invoice=invoices[financed_count], actor=signatories[0])
    services.finance_request_sign(finance_request=pending, actor=signatories[0])
    world.financed_invoices = financed  # for the marketplace's demo
    world.progress(f"primary platform: 2 parties, 1 program, {len(invoices)} invoices, {len(financed)} financed")
