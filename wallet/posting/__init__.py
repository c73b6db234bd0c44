"""Posting: `ledger_post`, the only writer of money (re-exported by `wallet.services`).

- `rules.py`: what a leg may be, the running balances, the refusal's words (Python, once).
- `orm.py`: the posting through the ORM (SQLite, and the tests on PostgreSQL beside the other).
- `sql.py` with the database function `wallet_post_entry()` (`post_entry.sql`): the posting in
  one round trip on PostgreSQL, which the fill (`trading_settle()`) also calls from inside
  the database; `hold_take.sql` is a bid hold's take for that fill.

Locking (DESIGN.md §3). A service that moves money runs in one `transaction.atomic()` and
locks rows in the global order: offering/listing, then bids, then holdings by id, then
wallet holds (`WalletHold`), then ledger accounts by id. `ledger_post` takes the last step
itself: it locks the *user* accounts it touches with
`SELECT … FOR NO KEY UPDATE OF self ORDER BY id` (no_key: it blocks other writers of the
balance but not the foreign-key checks of concurrent inserts), so callers must not lock
ledger accounts themselves in another order. System accounts are never locked or updated.

Retries (core.retry). A deadlock or serialization failure aborts the whole transaction, so
only the outermost caller can retry it. `ledger_post` is wrapped in `retry_on_deadlock`,
which retries only when it is the outermost atomic block; a service that calls
`ledger_post` inside its own transaction (a trade, a bid) decorates *itself* with
`retry_on_deadlock` instead, and an idempotent request retries the whole view.
"""

from collections.abc import Sequence
from decimal import Decimal

from core.retry import retry_on_deadlock
from core.sql import use_hand_written_sql
from wallet.models import JournalEntry, LedgerAccount
from wallet.posting.orm import post_with_orm
from wallet.posting.rules import check_kind, insufficient_funds, same_entry, validated_legs
from wallet.posting.sql import post_in_database

__all__ = ["HAND_WRITTEN_SQL", "insufficient_funds", "ledger_post"]

# On PostgreSQL the lock, the checks and the writes are one call of `wallet_post_entry()`;
# elsewhere (SQLite, the embedded default) the ORM does the same in Python. Tests switch this
# off to run the ORM path on PostgreSQL too (the `writers` fixture), so the two stay alike.
HAND_WRITTEN_SQL = True


@retry_on_deadlock
def ledger_post(
    *,
    kind: str,
    transfers: Sequence[tuple[LedgerAccount, LedgerAccount, Decimal]],
    reference: str = "",
    memo: str = "",
    created_by=None,
    idempotency_key: str | None = None,
) -> JournalEntry:
    """Write one balanced journal entry and update the cached user balances.

    `transfers` is a list of `(debit_account, credit_account, amount)`; amounts are Decimals
    (or ints/strings) in paise and > 0; floats are refused. User accounts are locked in id
    order, their final balances checked (`InsufficientFunds` before the database CHECK would
    fire), transfers inserted with each user side's running balance, balances updated. With
    `idempotency_key`, a repeat returns the first entry and moves nothing.

    Runs in the caller's transaction if there is one (see the module docstring on locks). On
    PostgreSQL it is one statement and needs no savepoint of its own: the checks run before
    anything is written, and the statement happens whole or fails the caller's transaction.
    """
    check_kind(kind)
    legs = validated_legs(transfers)
    entry = JournalEntry(kind=kind, reference=reference[:100], memo=memo[:255], idempotency_key=idempotency_key,
                         created_by=created_by if getattr(created_by, "pk", None) else None)
    if idempotency_key:
        existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return same_entry(existing, kind)
    if use_hand_written_sql(HAND_WRITTEN_SQL):
        return post_in_database(entry, legs, reference=reference)
    return post_with_orm(entry, legs, kind=kind, reference=reference, idempotency_key=idempotency_key)
