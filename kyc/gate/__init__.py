"""The onboarding gate inside another statement: `kyc_trader()` (`trader.sql`), PostgreSQL only.

`kyc_trader(p_user, …)` is the user's id when their KYC is verified and a bank account of
theirs is verified, the rule of `kyc.selectors.onboarding_status`'s `can_trade`. Otherwise it
raises SQLSTATE `KYC01` (`onboarding_incomplete`) with the facts Python words the refusal from
in the detail: the KYC status ('' for none) and whether a verified, a pending and a failed
bank account exist, as `true` or `false` (`raise_for_gate_refusal`).

A statement passes the buyer's id through it as an argument of the function that writes
(`trading_settle(p_buyer => kyc_trader(…), …)`): arguments are evaluated before the call, so
a refusal leaves the writer unstarted and the statement has written nothing. The statuses
are arguments, not copies of the code's names. Volatile on purpose: the planner never
evaluates it ahead of the statement. A test holds it to the Python rule for every KYC
status and set of bank account statuses (tests/kyc/test_onboarding_gate.py).
"""

from kyc.enums import BankAccountStatus, KYCStatus
from kyc.permissions import require_onboarded
from kyc.selectors import onboarding_status_from_row

GATE_REFUSED = "KYC01"  # kyc_trader()'s SQLSTATE

# Named parameters the gate's expression adds to its statement (prefixed, so they never meet
# the statement's own).
GATE_PARAMS = {"gate_kyc_verified": KYCStatus.VERIFIED, "gate_bank_verified": BankAccountStatus.VERIFIED,
               "gate_bank_pending": BankAccountStatus.PENDING, "gate_bank_failed": BankAccountStatus.FAILED}


def trader_gate_sql(*, placeholder: str) -> str:
    """The gate as an SQL expression around the user's id (`placeholder`, e.g. `%(p_buyer)s`):
    the id when `can_trade` holds, SQLSTATE `KYC01` otherwise. The statement's parameters must
    include `GATE_PARAMS`."""
    return (f"kyc_trader(p_user => {placeholder}::bigint, p_kyc_verified => %(gate_kyc_verified)s::varchar, "
            "p_bank_verified => %(gate_bank_verified)s::varchar, p_bank_pending => %(gate_bank_pending)s::varchar, "
            "p_bank_failed => %(gate_bank_failed)s::varchar)")


def raise_for_gate_refusal(error: Exception) -> None:
    """If `error` is `kyc_trader()` refusing (see `trader_gate_sql`), raise the
    gate's error, worded from the facts the refusal carries: no query, so it works in a
    transaction the refusal has aborted. Otherwise return, and the caller re-raises."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) != GATE_REFUSED:
        return
    kyc, verified, pending, failed = cause.diag.message_detail.split(" ")
    require_onboarded(onboarding_status_from_row({"kyc": kyc or None, "bank_verified": verified == "true",
                                         "bank_pending": pending == "true", "bank_failed": failed == "true"}))
    raise RuntimeError(f"kyc_trader() refused a trader the Python rule clears: {cause.diag.message_detail!r}.")
