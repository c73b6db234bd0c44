"""Outbox handlers of the wallet (run inside the drain transaction; idempotent)."""

from core.outbox import outbox_handler


@outbox_handler("kyc.verified")
def open_wallet_on_kyc_verified(payload: dict) -> None:
    from accounts.models import User
    from wallet.services.movements import wallet_open

    user = User.objects.filter(pk=payload["user_id"]).first()
    if user is not None:
        wallet_open(user=user)


@outbox_handler("wallet.withdrawal_requested")
def send_payout_on_withdrawal_requested(payload: dict) -> None:
    # The payout calls a provider, so it runs after this drain transaction commits.
    from wallet.services.withdrawals import withdrawal_payout_schedule

    withdrawal_payout_schedule(withdrawal_id=payload["withdrawal_id"])
