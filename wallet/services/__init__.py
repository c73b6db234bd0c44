"""Every write of the wallet. Other apps import from here (`from wallet import services`).

- ledger: `ledger_post` (the only writer), `wallet_system_account`,
  `insufficient_funds` and `hold_exceeded` (the refusals, for a caller that posts through
  the database's `wallet_post_entry`)
- movements: `wallet_open`, `wallet_cached`, `wallet_hold`, `wallet_release`, `wallet_pay_from_hold`,
  `wallet_transfer`, `wallet_credit_from_system`, `wallet_debit_to_system`,
  `wallet_system_transfer`
- deposits and withdrawals: the flows behind the API
"""

from wallet.selectors import wallet_balance
from wallet.services.deposits import (
    deposit_approve,
    deposit_create,
    deposit_reject,
    payment_webhook_receive,
)
from wallet.services.ledger import insufficient_funds, ledger_post, wallet_system_account
from wallet.services.movements import (
    WalletAccounts,
    hold_exceeded,
    wallet_cached,
    wallet_credit_from_system,
    wallet_debit_to_system,
    wallet_hold,
    wallet_open,
    wallet_pay_from_hold,
    wallet_release,
    wallet_system_transfer,
    wallet_transfer,
)
from wallet.services.withdrawals import (
    payout_webhook_receive,
    withdrawal_create,
    withdrawal_payout_send,
    withdrawal_resume,
    withdrawal_settle,
)

__all__ = [
    "WalletAccounts",
    "deposit_approve",
    "deposit_create",
    "deposit_reject",
    "hold_exceeded",
    "insufficient_funds",
    "ledger_post",
    "payment_webhook_receive",
    "payout_webhook_receive",
    "wallet_balance",
    "wallet_cached",
    "wallet_credit_from_system",
    "wallet_debit_to_system",
    "wallet_hold",
    "wallet_open",
    "wallet_pay_from_hold",
    "wallet_release",
    "wallet_system_account",
    "wallet_system_transfer",
    "wallet_transfer",
    "withdrawal_create",
    "withdrawal_payout_send",
    "withdrawal_resume",
    "withdrawal_settle",
]
