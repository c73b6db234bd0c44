"""DRF permissions of the onboarding gate, reusable by every app.

`CanTrade`: the caller's KYC and a bank account are verified; otherwise 403 `kyc_required`
or `bank_account_required`, saying what is missing. Use it on every view that moves money
into a position (buy, bid, sell post) or out (withdrawal):

    permission_classes = (IsAuthenticated, CanTrade)

`IsKycReviewer`: staff who may read and decide KYC (admin, super admin, verifier).
"""

from rest_framework.permissions import BasePermission

from accounts.enums import Role

KYC_REVIEWER_ROLES = frozenset({Role.ADMIN, Role.SUPER_ADMIN, Role.VERIFIER})


def is_kyc_reviewer(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.role in KYC_REVIEWER_ROLES)


GATE_REFUSED = "KYC01"  # kyc_trader()'s SQLSTATE (kyc migration 0002)


def require_can_trade(*, user) -> None:
    """The onboarding gate as a check services call too (a path that does not pass through
    `CanTrade`, such as a bid at the ask becoming a buy, must still meet it)."""
    from kyc.selectors import onboarding_status

    _require(onboarding_status(user=user))


def raise_for_gate_refusal(error: Exception) -> None:
    """If `error` is `kyc_trader()` refusing (see `kyc.selectors.trader_gate_sql`), raise the
    gate's error, worded from the facts the refusal carries: no query, so it works in a
    transaction the refusal has aborted. Otherwise return, and the caller re-raises."""
    from kyc.selectors import onboarding_status_from_row

    cause = error.__cause__
    if getattr(cause, "sqlstate", None) != GATE_REFUSED:
        return
    kyc, verified, pending, failed = cause.diag.message_detail.split(" ")
    _require(onboarding_status_from_row({"kyc": kyc or None, "bank_verified": verified == "true",
                                         "bank_pending": pending == "true", "bank_failed": failed == "true"}))
    raise RuntimeError(f"kyc_trader() refused a trader the Python rule clears: {cause.diag.message_detail!r}.")


def _require(status: dict) -> None:
    from kyc.errors import BankAccountRequired, KycRequired

    if status["kyc_status"] != "verified":
        raise KycRequired(f"Trading needs verified KYC; yours is {status['kyc_status'].replace('_', ' ')}.")
    if status["bank_status"] != "verified":
        raise BankAccountRequired(
            f"Trading needs a verified bank account; yours is {status['bank_status'].replace('_', ' ')}."
        )


class CanTrade(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False  # DRF answers 401
        require_can_trade(user=user)
        return True


class IsKycReviewer(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_kyc_reviewer(request.user)
