"""How the primary platform's money moves in the wallet's ledger (all system accounts).

The wallet's convention: a transfer moves value from its debit account to its credit
account, balance = credits - debits, and money entering the platform comes *from* `bank`
(a deposit is `bank → available`), so money leaving the platform goes *to* `bank`. In that
convention the loan book is an asset like the bank's cash: its balance is minus what the
businesses owe. Each posting carries a ledger idempotency key, so a retried service can
never post twice.

- Disbursal of a request with finance amount F, upfront interest I, net N = F - I:
  `loan_book → bank` N (cash paid to the seller) and `loan_book → fees` I (interest earned,
  taken upfront). The loan book now shows F owed.
- Overdue interest OI accrued: `loan_book → fees` OI (owed more, earned).
- Repayment R (any part, any number): `bank → loan_book` R (cash in, owed less).

So after a request is repaid in full, its loan-book legs sum to zero, `fees` holds all its
interest and `bank` shows the cash gained. ADR docs/adr/0006-primary-ledger-and-tenancy.md explains why
interest is earned when charged, not when collected.
"""

from decimal import Decimal

from wallet.services import wallet_system_transfer

BANK = "bank"
LOAN_BOOK = "loan_book"
FEES = "fees"


def _post(*, debit: str, credit: str, amount: Decimal, kind: str, reference: str, key: str, actor=None,
          memo: str = "") -> None:
    if amount > 0:
        wallet_system_transfer(debit_kind=debit, credit_kind=credit, amount=amount, reference=reference, kind=kind,
                               created_by=actor, memo=memo, idempotency_key=key)


def post_disbursal(*, organization_id: int, finance_request_id: int, net_amount: Decimal, interest_amount: Decimal,
                   actor=None) -> None:
    reference = f"finance_request:{finance_request_id}"
    _post(debit=LOAN_BOOK, credit=BANK, amount=net_amount, kind="invoice.disbursal", reference=reference,
          key=f"invoices:{organization_id}:fr:{finance_request_id}:disbursal", actor=actor,
          memo="Finance disbursed to the seller (net of upfront interest)")
    _post(debit=LOAN_BOOK, credit=FEES, amount=interest_amount, kind="invoice.interest", reference=reference,
          key=f"invoices:{organization_id}:fr:{finance_request_id}:interest", actor=actor,
          memo="Upfront interest on the finance")


def post_overdue_interest(*, organization_id: int, finance_request_id: int, amount: Decimal, through: str,
                          actor=None) -> None:
    _post(debit=LOAN_BOOK, credit=FEES, amount=amount, kind="invoice.overdue_interest",
          reference=f"finance_request:{finance_request_id}",
          key=f"invoices:{organization_id}:fr:{finance_request_id}:overdue:{through}", actor=actor,
          memo=f"Overdue interest through {through}")


def post_repayment(*, organization_id: int, repayment_id: int, finance_request_id: int, amount: Decimal,
                   reference: str, actor=None) -> None:
    _post(debit=BANK, credit=LOAN_BOOK, amount=amount, kind="invoice.repayment",
          reference=f"finance_request:{finance_request_id}:{reference}"[:100],
          key=f"invoices:{organization_id}:repayment:{repayment_id}", actor=actor,
          memo="Repayment received")
