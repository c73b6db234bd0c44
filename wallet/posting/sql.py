"""The posting as one call of the PostgreSQL function `wallet_post_entry()` (`post_entry.sql`),
with named arguments."""

from django.db import connection
from django.utils import timezone

from core import context
from wallet.models import JournalEntry
from wallet.posting.rules import Leg, insufficient_funds, same_entry, show_balances

# The function's arguments, each a named placeholder with its type.
ARGUMENTS = {
    "p_kind": "varchar", "p_reference": "varchar", "p_memo": "varchar", "p_created_by": "bigint",
    "p_idempotency_key": "varchar", "p_at": "timestamptz", "p_debits": "bigint[]", "p_credits": "bigint[]",
    "p_amounts": "numeric[]", "p_impersonator": "bigint", "p_ip": "inet", "p_request_id": "varchar",
}
# Built from the constant above only: no caller's text reaches the statement.
POST_ENTRY_SQL = ("SELECT posted_entry, short_account, short_kind, short_balance, short_after, locked_ids, "  # noqa: S608
                  "locked_balances FROM wallet_post_entry("
                  + ", ".join(f"{name} => %({name})s::{kind}" for name, kind in ARGUMENTS.items()) + ")")


def post_in_database(entry: JournalEntry, legs: list[Leg], *, reference: str) -> JournalEntry:
    """PostgreSQL: one call of `wallet_post_entry()` (`post_entry.sql`), which locks, checks and
    writes what the ORM path below does, in one round trip and without a savepoint: it
    refuses before writing anything, and one statement happens whole or fails the caller's
    transaction."""
    entry.created_at = timezone.now()
    debits, credits, amounts = (list(column) for column in zip(*((d.pk, c.pk, a) for d, c, a in legs), strict=True))
    request = context.current()
    with connection.cursor() as cursor:
        cursor.execute(POST_ENTRY_SQL, {
            "p_kind": entry.kind, "p_reference": reference, "p_memo": entry.memo, "p_created_by": entry.created_by_id,
            "p_idempotency_key": entry.idempotency_key, "p_at": entry.created_at, "p_debits": debits,
            "p_credits": credits, "p_amounts": amounts, "p_impersonator": request.impersonator_id,
            "p_ip": request.ip, "p_request_id": request.request_id})
        entry_id, short_account, short_kind, short_balance, short_after, ids, balances = cursor.fetchone()
    if short_account is not None:
        raise insufficient_funds(kind=short_kind, balance=short_balance, after=short_after)
    if entry_id is None:  # a concurrent twin with the same idempotency key committed first
        return same_entry(JournalEntry.objects.get(idempotency_key=entry.idempotency_key), entry.kind)
    entry.pk = entry_id
    entry._state.adding = False
    entry._state.db = connection.alias
    show_balances(legs, dict(zip(ids, balances, strict=True)))
    return entry
