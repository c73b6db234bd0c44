"""The one place errors become HTTP: every DomainError, DRF and Django error, in API.md's shape.

Kept apart from `core.errors` because drf-standardized-errors imports DRF's views, which
load the authentication classes, which raise domain errors: services import `core.errors`
without pulling in the HTTP layer.
"""

import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import DataError, IntegrityError
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from rest_framework import exceptions

from core.errors import Conflict, InvalidInput, RateLimited, RequestTooLarge

logger = logging.getLogger(__name__)


class ExceptionHandler(BaseExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
            # simplejwt puts {detail, code, messages} in one exception; API.md wants one error.
            clean = exceptions.AuthenticationFailed(str(exc.detail.get("detail", "Invalid token.")),
                                                    str(exc.detail.get("code", "token_not_valid")))
            clean.auth_header = getattr(exc, "auth_header", None)
            exc = clean
        if isinstance(exc, exceptions.Throttled):
            exc = RateLimited(retry_after=int(exc.wait) + 1 if exc.wait else None)
        if isinstance(exc, RateLimited) and exc.retry_after:
            exc.wait = exc.retry_after  # becomes the Retry-After header
        if isinstance(exc, RequestDataTooBig):
            # Django's own body limit (DATA_UPLOAD_MAX_MEMORY_SIZE), met by views that read the raw body.
            return RequestTooLarge()
        if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
            return exceptions.ParseError("The form has too many fields or files.")
        if isinstance(exc, DataError) and _is_numeric_overflow(exc):
            # The last line of defence behind bounded inputs (core/converters.py, core/money.py):
            # a number past its column is the caller's, never a 500.
            logger.warning("numeric overflow reached the API edge", exc_info=exc)
            return InvalidInput("A number is out of range.", code="value_out_of_range")
        if isinstance(exc, IntegrityError):
            # A constraint was the last line of defence: report a conflict, never leak SQL.
            logger.warning("integrity error reached the API edge", exc_info=exc)
            return Conflict("The change conflicts with the current state; retry.")
        return super().convert_known_exceptions(exc)

    def format_exception(self, exc: exceptions.APIException) -> dict:
        data = super().format_exception(exc)
        attr = getattr(exc, "attr", None)
        if attr and len(data.get("errors", [])) == 1:
            data["errors"][0]["attr"] = attr
        return data



def _is_numeric_overflow(exc: DataError) -> bool:
    cause = exc.__cause__
    return type(cause).__name__ == "NumericValueOutOfRange" or "out of range" in str(exc)
