"""KYC factories build rows in a given state directly (for selectors, lists and the gate);
the flow tests go through the services instead."""

import factory
from django.utils import timezone

from core.crypto import blind_index
from kyc.enums import BankAccountStatus, KYCKind, KYCStatus
from kyc.models import BankAccount, KYCProfile
from tests.accounts.factories import UserFactory


def pan_for(n: int) -> str:
    serial = f"{n % 8000 + 1000:04d}"
    return f"ABCPK{serial}{chr(ord('A') + n % 26)}"


class KYCProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KYCProfile

    user = factory.SubFactory(UserFactory)
    kind = KYCKind.INDIVIDUAL
    full_name = factory.LazyAttribute(lambda o: o.user.name or "Asha Rao")
    pan = factory.Sequence(pan_for)
    pan_index = factory.LazyAttribute(lambda o: blind_index(o.pan))
    date_of_birth = factory.Faker("date_of_birth", minimum_age=21, maximum_age=70)
    address = "1 MG Road, Bengaluru"
    status = KYCStatus.PENDING
    submitted_at = factory.LazyFunction(timezone.now)


class BankAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BankAccount

    user = factory.SubFactory(UserFactory)
    account_number = factory.Sequence(lambda n: f"9100{n:08d}1")
    ifsc = "HDFC0001234"
    account_index = factory.LazyAttribute(lambda o: blind_index(f"{o.ifsc}|{o.account_number}"))
    holder_name = factory.LazyAttribute(lambda o: o.user.name or "Asha Rao")
    status = BankAccountStatus.PENDING
