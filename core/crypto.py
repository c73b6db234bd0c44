"""Encryption at rest for identifiers (PAN, GSTIN, bank account numbers, broker credentials).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a `MultiFernet` built from
`FIELD_ENCRYPTION_KEYS`: the first key encrypts, every key decrypts, so a key is rotated by
putting a new one first and running `manage.py rotate_encryption_keys`, then dropping the old
one. Ciphertexts are randomised, so equality lookups use a *blind index*: an HMAC-SHA256 of
the normalised value under `BLIND_INDEX_KEY` (a different key, so the index reveals nothing
even to someone who holds the Fernet keys but not the HMAC key, and vice versa).

With DEBUG on and no keys set, deterministic development keys are derived from SECRET_KEY
(so `make run` works on a bare machine); with DEBUG off, settings refuse to start without them.

Other apps use `EncryptedTextField` on a model, or `encrypt()`/`decrypt()` directly, plus
`blind_index()` for uniqueness and `mask()` for every response.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def _keys() -> tuple[tuple[str, ...], str]:
    fernet_keys = tuple(key.strip() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip())
    index_key = settings.BLIND_INDEX_KEY
    if fernet_keys and index_key:
        return fernet_keys, index_key
    if not settings.DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY must be set when DEBUG is off.")
    seed = settings.SECRET_KEY.encode()
    if not fernet_keys:
        derived = hashlib.sha256(b"tranche-dev-field-encryption:" + seed).digest()
        fernet_keys = (base64.urlsafe_b64encode(derived).decode(),)
    if not index_key:
        index_key = hashlib.sha256(b"tranche-dev-blind-index:" + seed).hexdigest()
    return fernet_keys, index_key


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key.") from exc


def _fernet() -> MultiFernet:
    return _multi_fernet(_keys()[0])


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored value cannot be decrypted with any FIELD_ENCRYPTION_KEYS key.") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the primary key without exposing the plaintext."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored value cannot be decrypted with any FIELD_ENCRYPTION_KEYS key.") from exc


def blind_index(value: str) -> str:
    """Keyed hash of a normalised value (upper case, no spaces) for equality and uniqueness."""
    normalised = "".join(value.split()).upper()
    return hmac.new(_keys()[1].encode(), normalised.encode(), hashlib.sha256).hexdigest()


def mask(value: str, *, visible: int = 4) -> str:
    """`XXXXXX1234`: everything but the last `visible` characters hidden."""
    if not value:
        return ""
    return "X" * max(len(value) - visible, 0) + value[-visible:]


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; the model attribute is the plaintext.

    It cannot be filtered on (tokens are randomised): pair it with a blind-index column.
    `rotate_encryption_keys` finds every field of this type in every installed app.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        # `filter(pan=…)` would compare with a fresh random token and never match: a silent
        # "not found". Refuse every lookup but `isnull`, so such a query fails loudly (FieldError)
        # and the caller uses the blind index.
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None
