"""JWT authentication that understands impersonation tokens (DESIGN.md §4).

An impersonation token is an access token for the impersonated user with an RFC 8693
style actor claim, `act: {"sub": "<impersonator id>"}`. It lives 15 minutes and has no
refresh token. For such a token this class, on every request:

- refuses every `/api/v1/admin/` path (which includes starting another impersonation);
- checks that the impersonator is still an active super admin and the user still not staff;
- puts the impersonator into the request context (`core.context`), so every `AuditEvent`
  the request writes names them;
- writes one `AuditEvent` (`impersonation.request`) for the request itself.

Ordinary tokens behave exactly like simplejwt's `JWTAuthentication`, which also refuses a
deactivated user's tokens at once, since it loads the user and checks `is_active`. The user
is loaded by `accounts.selectors.user_for_token` (one hand-written SELECT on PostgreSQL),
with simplejwt's checks and error codes.
"""

import dataclasses

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.enums import STAFF_ROLES, Role
from core import context
from core.audit import audit_record
from core.errors import PermissionDenied

ACTOR_CLAIM = "act"
ADMIN_PATH_PREFIX = "/api/v1/admin/"


def impersonator_id_of(token) -> int | None:
    actor = token.get(ACTOR_CLAIM) if token is not None else None
    if not actor:
        return None
    try:
        return int(actor["sub"])
    except (TypeError, KeyError, ValueError):
        raise AuthenticationFailed("The token's actor claim is malformed.", code="token_not_valid") from None


class TrancheJWTAuthentication(JWTAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        impersonator_id = impersonator_id_of(token)
        if impersonator_id is not None:
            self._admit_impersonation(request, user, impersonator_id)
        return user, token

    def get_user(self, validated_token):
        """simplejwt's `get_user` (same checks, same codes), loading the user with one
        hand-written SELECT where the ORM's `get()` cost more to compile than to run."""
        from accounts.selectors import user_for_token

        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidToken(_("Token contained no recognizable user identification")) from error
        user = user_for_token(user_id=user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and (
                validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user

    def _admit_impersonation(self, request, user, impersonator_id: int) -> None:
        if request.path.startswith(ADMIN_PATH_PREFIX):
            raise PermissionDenied("An impersonation token cannot reach staff endpoints.",
                                   code="impersonation_forbidden")
        # The middleware resets the context var when the request ends, so this cannot leak.
        context.set_current(dataclasses.replace(context.current(), impersonator_id=impersonator_id))
        request.impersonator_id = impersonator_id
        impersonation_admit(user=user, impersonator_id=impersonator_id, method=request.method, path=request.path)


def impersonation_admit(*, user, impersonator_id: int, method: str, path: str) -> None:
    """An impersonation token is honoured only while its impersonator is an active super admin
    and its user is not staff; each use (an HTTP request, a WebSocket connect) is audited."""
    impersonator = impersonation_check(user=user, impersonator_id=impersonator_id)
    audit_record(action="impersonation.request", actor=user, target=user, impersonator=impersonator,
                 data={"method": method, "path": path})


def impersonation_check(*, user, impersonator_id: int):
    """The impersonator, while the impersonation may go on; else `AuthenticationFailed`."""
    from accounts.models import User

    impersonator = User.objects.filter(pk=impersonator_id).only("id", "role", "is_active").first()
    if impersonator is None or not impersonator.is_active or impersonator.role != Role.SUPER_ADMIN:
        raise AuthenticationFailed("The impersonation has been revoked.", code="token_not_valid")
    if user.role in STAFF_ROLES:
        raise AuthenticationFailed("Staff users cannot be impersonated.", code="token_not_valid")
    return impersonator


def session_still_admitted(*, user_id: int, impersonator_id: int | None) -> bool:
    """Whether a session opened earlier (a WebSocket) may go on: its user is still active and,
    when impersonated, the impersonation still passes `impersonation_check`."""
    from accounts.models import User

    user = User.objects.filter(pk=user_id).only("id", "role", "is_active").first()
    if user is None or not user.is_active:
        return False
    if impersonator_id is None:
        return True
    try:
        impersonation_check(user=user, impersonator_id=impersonator_id)
    except AuthenticationFailed:
        return False
    return True


class TrancheJWTScheme(SimpleJWTScheme):
    """OpenAPI: the same bearer scheme as simplejwt's (`jwtAuth`)."""

    target_class = "accounts.authentication.TrancheJWTAuthentication"
