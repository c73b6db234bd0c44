"""`create_staff` never changes an existing user silently: a staff phone keeps its password
and authenticator unless `--reset-credentials`, an investor stays an investor unless
`--promote`; each run says what it did. `createsuperuser` points at `create_staff`."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+919800000301"


def create_staff(*arguments: str) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    call_command("create_staff", "--phone", PHONE, *arguments, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def test_a_new_phone_is_created_and_says_so():
    created, said = create_staff("--role", "verifier")
    assert created["action"] == "created"
    assert said.strip() == f"Created staff user {PHONE} (verifier) in platform."
    assert User.objects.get(phone=PHONE).is_staff


def test_an_existing_staff_phone_is_refused_and_keeps_its_credentials():
    first, _ = create_staff("--role", "verifier")
    device_key = TOTPDevice.objects.get(user__phone=PHONE).key
    with pytest.raises(CommandError) as refused:
        create_staff("--role", "admin")
    assert "already staff (verifier)" in str(refused.value)
    assert "--reset-credentials" in str(refused.value)
    user = User.objects.get(phone=PHONE)
    assert user.check_password(first["password"])
    assert (user.role, user.is_superuser) == ("verifier", False)
    assert list(TOTPDevice.objects.filter(user=user).values_list("key", flat=True)) == [device_key]


def test_reset_credentials_replaces_password_and_authenticator_and_says_so():
    first, _ = create_staff("--role", "verifier")
    old_key = TOTPDevice.objects.get(user__phone=PHONE).key
    again, said = create_staff("--role", "verifier", "--reset-credentials")
    assert again["action"] == "credentials_reset"
    assert "old authenticator no longer works" in said
    user = User.objects.get(phone=PHONE)
    assert user.check_password(again["password"]) and not user.check_password(first["password"])
    assert TOTPDevice.objects.get(user=user).key != old_key


def test_an_existing_investor_is_refused_without_promote():
    investor = UserFactory(phone=PHONE)
    with pytest.raises(CommandError) as refused:
        create_staff("--role", "admin")
    assert "not staff" in str(refused.value) and "--promote" in str(refused.value)
    investor.refresh_from_db()
    assert (investor.role, investor.is_staff, investor.is_superuser) == ("investor", False, False)
    assert not TOTPDevice.objects.filter(user=investor).exists()


def test_promote_makes_an_investor_staff_and_says_so():
    investor = UserFactory(phone=PHONE)
    promoted, said = create_staff("--role", "admin", "--promote")
    assert promoted["action"] == "promoted"
    assert said.strip() == f"Promoted existing user {PHONE} to staff (admin) in platform."
    investor.refresh_from_db()
    assert (investor.role, investor.is_staff) == ("admin", True)
    assert TOTPDevice.objects.filter(user=investor, confirmed=True).count() == 1


def test_promote_does_not_reset_an_existing_staff_users_credentials():
    create_staff("--role", "verifier")
    with pytest.raises(CommandError, match="--reset-credentials"):
        create_staff("--role", "verifier", "--promote")


def test_createsuperuser_is_refused_with_a_pointer_to_create_staff():
    with pytest.raises(CommandError) as refused:
        call_command("createsuperuser", "--noinput", "--phone", PHONE, stdout=StringIO())
    assert "create_staff --phone PHONE --role super_admin" in str(refused.value)
    assert not User.objects.filter(is_superuser=True).exists()
