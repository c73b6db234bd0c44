import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from core import crypto
from kyc.models import BankAccount, KYCProfile
from tests.kyc.factories import BankAccountFactory, KYCProfileFactory


def test_encrypt_round_trips_and_is_randomised():
    token = crypto.encrypt("ABCPR1234K")
    assert token != crypto.encrypt("ABCPR1234K") and "ABCPR1234K" not in token
    assert crypto.decrypt(token) == "ABCPR1234K"


def test_blind_index_is_keyed_deterministic_and_normalised(settings):
    assert crypto.blind_index("abcpr 1234k") == crypto.blind_index("ABCPR1234K")
    assert crypto.blind_index("ABCPR1234K") != crypto.blind_index("ABCPR1235K")
    before = crypto.blind_index("ABCPR1234K")
    settings.BLIND_INDEX_KEY = "another-key"
    assert crypto.blind_index("ABCPR1234K") != before


def test_mask():
    assert crypto.mask("ABCPR1234K") == "XXXXXX234K"
    assert crypto.mask("123456789012") == "XXXXXXXX9012"
    assert crypto.mask("") == ""


def test_missing_keys_with_debug_off_are_refused(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_with_debug_on_and_no_keys_a_development_key_comes_from_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.BLIND_INDEX_KEY = ""
    settings.DEBUG = True
    token = crypto.encrypt("ABCPR1234K")
    assert crypto.decrypt(token) == "ABCPR1234K"
    index = crypto.blind_index("ABCPR1234K")
    settings.SECRET_KEY = "another-secret"
    assert crypto.blind_index("ABCPR1234K") != index
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(token)


def test_settings_refuse_to_start_without_keys_when_debug_is_off(settings):
    env = {k: v for k, v in os.environ.items() if k not in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")}
    env.update(DEBUG="0", SECRET_KEY="x" * 40, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run([sys.executable, "-c", "import config.settings"], env=env, capture_output=True,
                            text=True, timeout=60, cwd=str(settings.BASE_DIR))
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEYS" in result.stderr


@pytest.mark.django_db
def test_rotation_re_encrypts_every_value_under_the_new_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    profile = KYCProfileFactory(pan="ABCPR1234K")
    account = BankAccountFactory(account_number="123456789012")

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    assert KYCProfile.objects.get(pk=profile.pk).pan == "ABCPR1234K"
    assert BankAccount.objects.get(pk=account.pk).account_number == "123456789012"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pan FROM kyc_kycprofile WHERE id = %s", [profile.pk])
        [token] = cursor.fetchone()
    assert Fernet(new_key).decrypt(token.encode()) == b"ABCPR1234K"


@pytest.mark.django_db
def test_without_rotation_dropping_the_old_key_breaks_reads(settings):
    profile = KYCProfileFactory(pan="ABCPR1234K")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured):
        KYCProfile.objects.get(pk=profile.pk)


@pytest.mark.django_db
def test_an_encrypted_field_refuses_lookups_that_could_never_match():
    profile = KYCProfileFactory()
    for lookup in ({"pan": profile.pan}, {"gstin__startswith": "27"}, {"pan__in": [profile.pan]}):
        with pytest.raises(FieldError, match="Unsupported lookup"):
            list(KYCProfile.objects.filter(**lookup))
    assert list(KYCProfile.objects.filter(pan_index=crypto.blind_index(profile.pan))) == [profile]
    assert KYCProfile.objects.filter(pan__isnull=False).count() == 1
