"""`Transfer.created_at`, step 2 of 2: backfill it from the entries, make it NOT NULL, index it.

Written for a big, busy, append-only table, so not one long transaction (`atomic = False`);
a run that stops half-way can be started again (the backfill takes the rows still empty):

1. Backfill in batches of `BATCH` ids, each its own short transaction. `wallet_transfer`
   refuses UPDATE (0002), so on PostgreSQL each batch switches that trigger off and on again
   inside its own transaction: no other session ever sees it off, and the ALTER's lock
   (SHARE ROW EXCLUSIVE) holds new postings back for one batch only. Rows posted meanwhile
   already have the time (`ledger_post`, or 0003's trigger for older processes).
2. NOT NULL. On PostgreSQL a `CHECK (created_at IS NOT NULL) NOT VALID` is validated first,
   which does not block writers, so `SET NOT NULL` can skip its scan under an exclusive
   lock; the CHECK is dropped after. On SQLite the column is altered the usual way.
3. The index, built CONCURRENTLY on PostgreSQL (writers keep writing while it builds).

The UPDATE is plain SQL that PostgreSQL and SQLite (the embedded default) both run.
"""

from django.db import migrations, models, transaction

from core.migration_operations import AddIndexConcurrentlyOnPostgres, RunSQLOnPostgres

BATCH = 20_000

FILL = """
UPDATE wallet_transfer
   SET created_at = (SELECT entry.created_at FROM wallet_journalentry entry WHERE entry.id = wallet_transfer.entry_id)
 WHERE id >= %s AND id < %s AND created_at IS NULL
"""
CHECK = "wallet_transfer_created_at_set"


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM wallet_transfer WHERE created_at IS NULL")
        first, last = cursor.fetchone()
    if first is None:
        return
    for start in range(first, last + 1, BATCH):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if postgres:
                cursor.execute("ALTER TABLE wallet_transfer DISABLE TRIGGER wallet_transfer_append_only")
            cursor.execute(FILL, [start, start + BATCH])
            if postgres:
                cursor.execute("ALTER TABLE wallet_transfer ENABLE TRIGGER wallet_transfer_append_only")


# Three statements, three transactions (the migration is not atomic): only the first
# (brief) takes an exclusive lock.
ADD_CHECKED_NOT_NULL = [
    f"ALTER TABLE wallet_transfer DROP CONSTRAINT IF EXISTS {CHECK}",
    f"ALTER TABLE wallet_transfer ADD CONSTRAINT {CHECK} CHECK (created_at IS NOT NULL) NOT VALID",
    f"ALTER TABLE wallet_transfer VALIDATE CONSTRAINT {CHECK}",
]
DROP_CHECKED_NOT_NULL = f"ALTER TABLE wallet_transfer DROP CONSTRAINT IF EXISTS {CHECK}"


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("wallet", "0003_transfer_created_at")]
    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        RunSQLOnPostgres(ADD_CHECKED_NOT_NULL, DROP_CHECKED_NOT_NULL),
        migrations.AlterField(model_name="transfer", name="created_at", field=models.DateTimeField()),
        RunSQLOnPostgres(DROP_CHECKED_NOT_NULL, ADD_CHECKED_NOT_NULL),
        AddIndexConcurrentlyOnPostgres(
            model_name="transfer",
            index=models.Index(fields=["created_at"], name="wallet_transfer_created_at_idx"),
        ),
    ]
