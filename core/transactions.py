"""Transactions a request owns, and the services' blocks inside them.

An idempotent request (core.idempotency) runs its view inside one transaction that commits
whole or rolls back whole: any exception out of the view rolls all of it back. Inside that
transaction a service's own `atomic()` block gains nothing from a savepoint, and a savepoint
costs: two more round trips, and a subtransaction whose writes every concurrent backend
must then look up when it checks their visibility (measured with keyed buys:
docs/benchmarks.md, "Marketplace buy").

So a service whose errors always propagate to its caller (no caller catches them to carry
on in the same transaction) opens its block with `service_atomic()`: a savepoint as usual,
except directly inside a request's own transaction.
"""

import contextlib
import contextvars

from django.db import transaction

_REQUEST_OWNS_TRANSACTION = contextvars.ContextVar("request_owns_transaction", default=False)


@contextlib.contextmanager
def request_transaction():
    """The request's transaction: commits if the block returns, rolls back whole if it raises."""
    with transaction.atomic():
        token = _REQUEST_OWNS_TRANSACTION.set(True)
        try:
            yield
        finally:
            _REQUEST_OWNS_TRANSACTION.reset(token)


def service_atomic():
    """`transaction.atomic()` for a service's unit of work, without a savepoint inside a
    request's own transaction (see the module docstring for when a service may use it)."""
    return transaction.atomic(savepoint=not _REQUEST_OWNS_TRANSACTION.get())
