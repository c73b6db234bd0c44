"""JWT authentication for Channels: the same access token the REST API takes.

A browser cannot set `Authorization` on a WebSocket, so the token comes either as the query
parameter `?token=<access>` or in `Sec-WebSocket-Protocol: bearer, <access>` (the server
then answers with the `bearer` subprotocol, never echoing the token). The middleware never
refuses a connection itself: it sets `scope["user"]` (AnonymousUser when the token is
missing, bad or expired) and `scope["auth_error"]`, and the consumer closes with
`WS_UNAUTHORIZED` (4401) so the client can tell "sign in again" from a network failure.
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import impersonation_admit, impersonator_id_of

WS_UNAUTHORIZED = 4401
BEARER_SUBPROTOCOL = "bearer"


def token_from_scope(scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    subprotocols = list(scope.get("subprotocols") or [])
    if BEARER_SUBPROTOCOL in subprotocols:
        index = subprotocols.index(BEARER_SUBPROTOCOL)
        if index + 1 < len(subprotocols):
            return subprotocols[index + 1]
    return None


@database_sync_to_async
def _user_for(raw_token: str, path: str):
    """(user, token, error): the active user the access token names, or why not. An
    impersonation token passes the same checks as over HTTP, and its connect is audited."""
    try:
        token = AccessToken(raw_token)
        user = JWTAuthentication().get_user(token)
        impersonator_id = impersonator_id_of(token)
        if impersonator_id is not None:
            impersonation_admit(user=user, impersonator_id=impersonator_id, method="WEBSOCKET", path=path)
    except TokenError as exc:
        return AnonymousUser(), None, "token_expired" if "expired" in str(exc).lower() else "token_not_valid"
    except (InvalidToken, AuthenticationFailed):
        return AnonymousUser(), None, "token_not_valid"
    return user, token, None


class JwtAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        raw = token_from_scope(scope)
        if raw is None:
            user, token, error = AnonymousUser(), None, "token_missing"
        else:
            user, token, error = await _user_for(raw, scope.get("path", ""))
        scope = dict(scope, user=user, auth_error=error, auth_token_expires_at=token["exp"] if token else None,
                     impersonator_id=impersonator_id_of(token) if token else None)
        return await super().__call__(scope, receive, send)
