import factory

from notifications.enums import NotificationKind
from notifications.models import Notification
from tests.accounts.factories import UserFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    kind = NotificationKind.DEPOSIT_CREDITED
    title = "Money added"
    body = factory.Sequence(lambda n: f"₹{n}.00 was added to your wallet.")
    data = factory.LazyFunction(dict)
    event_key = factory.Sequence(lambda n: f"test.event:{n}")
