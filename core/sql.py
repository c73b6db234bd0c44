"""Hand-written SQL on the hot paths (the buy, the ledger), with the ORM as the portable path.

On PostgreSQL a posting is one call of `wallet_post_entry()` and a fill one call of
`trading_settle()` (database functions, created by the wallet and trading migrations 0005):
the ORM spent longer compiling a buy's short queries, and the round trips between them,
than PostgreSQL spent running them (docs/benchmarks.md, "Marketplace buy"). Every other
database (SQLite, the embedded default) takes the ORM path, and the tests run both on
PostgreSQL (the `writers` fixture) so they stay equivalent.
"""

from django.db import connection


def use_hand_written_sql(enabled: bool) -> bool:
    """True where the hand-written path applies: PostgreSQL, unless switched off."""
    return enabled and connection.vendor == "postgresql"
