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


def require_can_trade(*, user) -> None:
    """The onboarding gate as a check services call too (a path that does not pass through
    `CanTrade`, such as a bid at the ask becoming a buy, must still meet it)."""
    from kyc.selectors import onboarding_status

    require_onboarded(onboarding_status(user=user))


def require_onboarded(status: dict) -> None:
    """Raise the gate's error for an `onboarding_status`-shaped dict that cannot trade."""
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
