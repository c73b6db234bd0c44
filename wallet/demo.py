"""Demo wallet: the KYC-verified investors get money in through both deposit paths, and the
world shows deposits and withdrawals in their states — credited, pending (a sandbox payment
page still to pay), failed, pending verification and rejected deposits; paid, failed and
reversed withdrawals, and one still processing (its payout timed out). The last verified
investor is the demo's "large investor" (enough money to cross the TDS threshold in the
marketplace demo). Everything goes through the
wallet's services and the sandbox adapters' signed webhooks, so `reconcile` is clean.

Run outside a transaction (as `seed_demo_data` does), each service commits and the outbox
runs its handlers at once in the embedded mode, so a withdrawal is paid (or failed) before
the next line, and the bank's reversal can follow it. `processing` is shown by a payout that
timed out (the sandbox's timeout fault); `pending` lasts only until the outbox runs, which
the embedded mode does at once after the commit."""

from decimal import Decimal

from django.core.files.base import ContentFile

from accounts.enums import Role
from integrations.payments import SandboxPayments
from integrations.payouts import SandboxPayouts
from kyc.enums import BankAccountStatus
from kyc.models import BankAccount
from kyc.selectors import kyc_status_for_user
from wallet.enums import WithdrawalStatus
from wallet.services import (
    deposit_approve,
    deposit_create,
    deposit_reject,
    payment_webhook_receive,
    wallet_open,
    withdrawal_create,
)
from wallet.services.withdrawals import payout_key, payout_webhook_receive

PROOF = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the smallest thing that passes the content check
LARGE_INVESTOR_TOP_UP = Decimal("500000.00")


def _gateway(user, amount: Decimal, *, event: str | None = "payment.captured"):
    deposit = deposit_create(user=user, amount=amount, method="gateway")
    if event is not None:
        headers, body = SandboxPayments().sign_webhook(event_type=event, payment_id=deposit.provider_payment_id,
                                                       amount=amount)
        payment_webhook_receive(provider="sandbox", headers=headers, body=body)
    return deposit


def _bank_account(user):
    return BankAccount.objects.filter(user=user, status=BankAccountStatus.VERIFIED).order_by("pk").first()


def seed(world) -> None:
    investors = [user for user in world.users.get("investors", []) if kyc_status_for_user(user=user) == "verified"]
    verifier = world.users.get(Role.VERIFIER)
    for number, user in enumerate(investors, start=1):
        wallet_open(user=user)
        _gateway(user, Decimal(50000 * number))
        if verifier is not None:
            offline = deposit_create(user=user, amount=Decimal("25000.00"), method="bank_transfer",
                                     reference=f"DEMOUTR{user.pk:06d}A", proof=ContentFile(PROOF, name="slip.png"))
            deposit_approve(actor=verifier, deposit_id=offline.pk, note="Seen in the bank statement (demo).")
    if investors:
        first = investors[0]
        deposit_create(user=first, amount=Decimal("10000.00"), method="upi", reference=f"DEMOUPI{first.pk:06d}",
                       proof=ContentFile(PROOF, name="upi.png"))
        bank_account = _bank_account(first)
        if bank_account is not None:
            withdrawal_create(user=first, amount=Decimal("5000.00"), bank_account_id=bank_account.pk)
    if len(investors) >= 2:
        _states(investors[1], verifier)
    if len(investors) >= 4:
        large = investors[-1]
        _gateway(large, LARGE_INVESTOR_TOP_UP)
        world.users["large_investor"] = large
    world.progress(f"{len(investors)} wallets funded; deposits and withdrawals in their states")


def _states(user, verifier) -> None:
    """The second investor's wallet shows the other states."""
    _gateway(user, Decimal("2000.00"), event=None)  # pending: pay it on the sandbox page
    _gateway(user, Decimal("3000.00"), event="payment.failed")
    if verifier is not None:
        cheque = deposit_create(user=user, amount=Decimal("7500.00"), method="cheque",
                                reference=f"DEMOCHQ{user.pk:06d}", proof=ContentFile(PROOF, name="cheque.png"))
        deposit_reject(actor=verifier, deposit_id=cheque.pk, note="The cheque bounced (demo).")
    bank_account = _bank_account(user)
    if bank_account is None:
        return
    withdrawal_create(user=user, amount=Decimal("1000.13"), bank_account_id=bank_account.pk)  # sandbox: fails
    returned = withdrawal_create(user=user, amount=Decimal("2000.00"), bank_account_id=bank_account.pk)
    returned.refresh_from_db()
    if returned.status == WithdrawalStatus.PAID:  # paid at once when the outbox runs eagerly
        headers, body = SandboxPayouts().sign_webhook(
            event_type="payout.reversed", payout_id=returned.provider_payout_id, reference=payout_key(returned.pk),
            amount=returned.amount, event_id=f"demo-reversal-{returned.pk}", reason="Beneficiary account closed",
        )
        payout_webhook_receive(provider="sandbox", headers=headers, body=body)
    # One payout whose provider never answered: `processing` until the resume job (or the
    # provider's webhook) settles it. The sandbox's timeout fault stands in for the silence.
    from django.core.cache import cache

    from integrations.payouts import SANDBOX_FAULT_CACHE_KEY

    cache.set(SANDBOX_FAULT_CACHE_KEY, "timeout", timeout=60)
    try:
        withdrawal_create(user=user, amount=Decimal("1500.00"), bank_account_id=bank_account.pk)
    finally:
        cache.delete(SANDBOX_FAULT_CACHE_KEY)
