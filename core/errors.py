"""One error hierarchy, mapped to HTTP in one place.

Services raise `DomainError` subclasses with a stable `code`; the exception handler
(`core.exception_handler`, built on drf-standardized-errors) turns them, and every DRF and
Django error, into the shape of
API.md: ``{"type": ..., "errors": [{"code", "detail", "attr"}]}``. Unhandled exceptions
become a 500 with no stack trace in the body (the trace goes to the log).
"""

from rest_framework import exceptions, status


class DomainError(exceptions.APIException):
    """A broken business rule. Subclasses set `code`, `status_code` and a default detail."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "domain_error"
    default_detail = "The request breaks a business rule."

    def __init__(self, detail: str | None = None, *, code: str | None = None, status_code: int | None = None,
                 attr: str | None = None):
        self.code = code or self.code
        if status_code is not None:
            self.status_code = status_code
        self.attr = attr
        super().__init__(detail or self.default_detail, self.code)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    default_detail = "Not found."


class PermissionDenied(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"
    default_detail = "You do not have permission to do this."


class InvalidState(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "invalid_state"
    default_detail = "The object is not in a state that allows this."


class RateLimited(DomainError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "rate_limited"
    default_detail = "Too many requests. Try again later."

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None, **kwargs):
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class InvalidInput(DomainError):
    """Input that passes the serializer but fails a rule a service checks (400)."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"


class RequestTooLarge(DomainError):
    """A body larger than the endpoint accepts (413), refused before it is read in full."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "request_too_large"
    default_detail = "The request body is too large."
