"""Retrying a transaction that lost a deadlock or a serialization failure.

Either failure aborts the whole transaction, so only the outermost caller can run it again:
`retry_on_deadlock` retries when no atomic block is open around it and re-raises otherwise.
Services that move money decorate themselves with it (wallet.posting explains the
lock order), and so does an idempotent request, which runs its view inside its own
transaction (core.idempotency).
"""

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

try:  # psycopg is absent only on a bare SQLite install
    from psycopg import errors as pg_errors

    RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
except ImportError:  # pragma: no cover
    RETRYABLE = ()


def is_retryable(exc: BaseException) -> bool:
    """True for a deadlock or serialization failure, however Django wrapped it."""
    seen = exc
    while seen is not None:
        if RETRYABLE and isinstance(seen, RETRYABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retry_on_deadlock(function: Callable[..., T] | None = None, *, attempts: int = 5,
                      base_delay: float = 0.01) -> Callable[..., T]:
    """Retry `function` on a deadlock or serialization failure, with jittered backoff, but
    only when no transaction is open around it: inside an outer atomic block the failure has
    already doomed the outer transaction, so it is re-raised for the outermost caller."""

    def decorate(inner: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(inner)
        def wrapper(*args, **kwargs):
            if transaction.get_connection().in_atomic_block:
                return inner(*args, **kwargs)
            for attempt in range(1, attempts + 1):
                try:
                    return inner(*args, **kwargs)
                except DatabaseError as exc:
                    if attempt == attempts or not is_retryable(exc):
                        raise
                    delay = base_delay * 2 ** (attempt - 1) * (0.5 + random.random())
                    logger.warning("retrying %s after %s (attempt %s)", inner.__qualname__, type(exc).__name__,
                                   attempt)
                    time.sleep(delay)
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper

    return decorate(function) if function is not None else decorate
