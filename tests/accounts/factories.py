import factory

from accounts.enums import Role
from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("phone",)

    phone = factory.Sequence(lambda n: f"+9198{n:08d}")
    name = factory.Faker("name", locale="en_IN")
    role = Role.INVESTOR
    password = factory.django.Password(None)
