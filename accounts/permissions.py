"""Staff role permissions for `/api/v1/admin/` endpoints.

    permission_classes = (IsStaffRole(roles=REPORT_ROLES),)

DRF instantiates each entry of `permission_classes`; an `IsStaffRole(...)` instance returns
itself when called, so one class serves every role set. A user must be active and hold one
of the roles; anyone else gets 403 (401 when not signed in).

The role matrix (DESIGN.md §4):
- `investor` (and sales, team lead, dealer): nothing under `/admin/`.
- `verifier`: the verification queues only (KYC review, offline deposits; owned by kyc and
  wallet, which check `kyc.permissions.IsKycReviewer` / `wallet.api.IsVerifier`).
- `admin`: reports, users, the audit trail; cannot impersonate.
- `super_admin`: everything an admin can, plus impersonating non-staff users and granting
  staff roles.
"""

from collections.abc import Iterable

from rest_framework.permissions import BasePermission

from accounts.enums import Role

ADMIN_ROLES = frozenset({Role.ADMIN, Role.SUPER_ADMIN})
SUPER_ADMIN_ROLES = frozenset({Role.SUPER_ADMIN})
VERIFICATION_ROLES = frozenset({Role.ADMIN, Role.SUPER_ADMIN, Role.VERIFIER})


def has_staff_role(user, roles: Iterable[str]) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.role in roles)


class IsStaffRole(BasePermission):
    def __init__(self, roles: Iterable[str] = ADMIN_ROLES):
        self.roles = frozenset(roles)

    def __call__(self):
        # DRF calls each entry of `permission_classes`: an instance hands back itself.
        return self

    def has_permission(self, request, view) -> bool:
        return has_staff_role(request.user, self.roles)
