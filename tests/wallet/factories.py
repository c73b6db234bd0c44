"""Wallet test helpers. Money enters only through the ledger's own writer (`ledger_post`),
as a deposit would, so every test's books balance."""

import io
from decimal import Decimal

from kyc.enums import BankAccountStatus, KYCStatus
from tests.accounts.factories import UserFactory
from tests.kyc.factories import BankAccountFactory, KYCProfileFactory
from wallet.enums import AccountKind, EntryKind
from wallet.services import ledger_post, wallet_open, wallet_system_account

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def verified_investor(**fields):
    """An investor with verified KYC and an open (empty) wallet."""
    user = UserFactory(**fields)
    KYCProfileFactory(user=user, status=KYCStatus.VERIFIED)
    wallet_open(user=user)
    return user


def verified_bank_account(user):
    return BankAccountFactory(user=user, status=BankAccountStatus.VERIFIED, is_primary=True)


def fund(user, amount: str | Decimal) -> None:
    """Put `amount` in the user's available account, bank → available, like a deposit."""
    accounts = wallet_open(user=user)
    ledger_post(kind=EntryKind.DEPOSIT,
                transfers=[(wallet_system_account(AccountKind.BANK), accounts.available, Decimal(amount))],
                reference="test:funding")


def proof_file(content: bytes = PNG_BYTES, name: str = "proof.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="image/png")


def buffer(content: bytes) -> io.BytesIO:
    return io.BytesIO(content)
