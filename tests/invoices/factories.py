"""Factories for the primary platform. Parties get valid, distinct PANs and GSTINs."""

import string
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from stdnum import luhn

from accounts.enums import OrganizationRole
from accounts.models import Organization, OrganizationMembership
from accounts.tenancy import platform_organization
from core.crypto import blind_index
from invoices.enums import PartyKind, PartyRole, ProgramKind, ProgramStatus
from invoices.models import Counterparty, Invoice, Party, PartyMembership, Program
from tests.accounts.factories import UserFactory

GSTIN_ALPHABET = string.digits + string.ascii_uppercase


def make_pan(n: int, holder: str = "C") -> str:
    letters = string.ascii_uppercase
    prefix = letters[(n // 676) % 26] + letters[(n // 26) % 26] + letters[n % 26]
    return f"{prefix}{holder}A{n % 9999 + 1:04d}Z"


def make_gstin(pan: str, state: str = "27") -> str:
    body = f"{state}{pan}1Z"
    return body + luhn.calc_check_digit(body, GSTIN_ALPHABET)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


def member(user=None, *, organization=None, role=OrganizationRole.MEMBER):
    user = user or UserFactory()
    OrganizationMembership.objects.get_or_create(organization=organization or platform_organization(), user=user,
                                                 defaults={"role": role})
    return user


def org_admin(organization=None):
    return member(organization=organization, role=OrganizationRole.ADMIN)


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    organization = factory.LazyFunction(platform_organization)
    legal_name = factory.Sequence(lambda n: f"Party {n} Pvt Ltd")
    pan = factory.Sequence(make_pan)
    pan_index = factory.LazyAttribute(lambda o: blind_index(o.pan))
    gstin = factory.LazyAttribute(lambda o: make_gstin(o.pan))
    gstin_index = factory.LazyAttribute(lambda o: blind_index(o.gstin) if o.gstin else "")
    kind = PartyKind.SELLER
    signatures_required = 1


def party_member(party, *, role=PartyRole.ADMINISTRATOR, user=None):
    user = member(user, organization=party.organization)
    PartyMembership.objects.create(organization=party.organization, party=party, user=user, role=role)
    return user


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    organization = factory.LazyFunction(platform_organization)
    name = factory.Sequence(lambda n: f"Program {n}")
    kind = ProgramKind.RF
    anchor = factory.SubFactory(PartyFactory, kind=PartyKind.ANCHOR,
                                organization=factory.SelfAttribute("..organization"))
    max_limit_amount = Decimal("1000000.00")
    max_invoice_amount = Decimal("500000.00")
    max_invoice_percent = Decimal("80.00")
    interest_rate = Decimal("12.0000")
    min_tenor_days = 7
    max_tenor_days = 180
    grace_days = 5
    overdue_rate = Decimal("24.0000")
    status = ProgramStatus.ACTIVE


class CounterpartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Counterparty

    program = factory.SubFactory(ProgramFactory)
    organization = factory.SelfAttribute("program.organization")
    party = factory.SubFactory(PartyFactory, organization=factory.SelfAttribute("..program.organization"))
    limit_amount = Decimal("500000.00")


class InvoiceFactory(factory.django.DjangoModelFactory):
    """An invoice under an RF program: the anchor sells to a counterparty."""

    class Meta:
        model = Invoice

    class Params:
        counterparty = factory.SubFactory(CounterpartyFactory)

    organization = factory.SelfAttribute("counterparty.organization")
    program = factory.SelfAttribute("counterparty.program")
    seller = factory.SelfAttribute("counterparty.program.anchor")
    buyer = factory.SelfAttribute("counterparty.party")
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    amount = Decimal("100000.00")
    issue_date = factory.LazyFunction(lambda: timezone.localdate())
    due_date = factory.LazyAttribute(lambda o: o.issue_date + timedelta(days=60))
