from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.models import Organization, User
from accounts.tenancy import platform_organization
from invoices.enums import PartyKind, PartyRole
from invoices.models import Counterparty, Party, Program
from tests.conftest import authenticate
from tests.invoices.factories import (
    CounterpartyFactory,
    OrganizationFactory,
    PartyFactory,
    ProgramFactory,
    org_admin,
    party_member,
)


@dataclass
class World:
    """One organization with an RF program: the anchor (seller) sells to a counterparty
    (buyer). The seller has two administrators and a supervisor; the buyer one member."""

    organization: Organization
    admin: User
    seller: Party
    buyer: Party
    program: Program
    counterparty: Counterparty
    signer_a: User
    signer_b: User
    supervisor: User
    buyer_user: User

    def client(self, user) -> APIClient:
        return authenticate(APIClient(), user)


def build_world(organization=None, *, signatures_required: int = 2) -> World:
    organization = organization or platform_organization()
    seller = PartyFactory(organization=organization, kind=PartyKind.BOTH, signatures_required=signatures_required,
                          legal_name="Anchor Seller Ltd")
    buyer = PartyFactory(organization=organization, kind=PartyKind.SELLER, legal_name="Buyer Traders")
    program = ProgramFactory(organization=organization, anchor=seller)
    counterparty = CounterpartyFactory(program=program, party=buyer)
    return World(
        organization=organization, admin=org_admin(organization), seller=seller, buyer=buyer, program=program,
        counterparty=counterparty,
        signer_a=party_member(seller, role=PartyRole.ADMINISTRATOR),
        signer_b=party_member(seller, role=PartyRole.ADMINISTRATOR),
        supervisor=party_member(seller, role=PartyRole.SUPERVISOR),
        buyer_user=party_member(buyer, role=PartyRole.ADMINISTRATOR),
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def other_world(db) -> World:
    """A second organization, fully set up, whose objects must stay invisible."""
    return build_world(OrganizationFactory(slug="other-org"))
