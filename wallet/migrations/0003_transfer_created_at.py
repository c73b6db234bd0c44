"""`Transfer.created_at`, step 1 of 2: the column, nullable (a catalogue change, no rewrite of
the table), and on PostgreSQL a trigger that fills a missing one from the transfer's entry.

The trigger is for the deploy: `release: migrate` runs while processes with the code from
before this change still post to the ledger, and their INSERTs name no `created_at`. With
it, their rows get the right time, so 0004 can make the column NOT NULL without failing
their postings, and the backfill in 0004 has no new empty rows to chase. Its `WHEN` clause
means a row that has the time (every row `ledger_post` writes now) never calls the function.
"""

from django.db import migrations, models

from core.migration_operations import RunSQLOnPostgres

FORWARD = """
CREATE FUNCTION wallet_transfer_fill_created_at() RETURNS trigger AS $$
BEGIN
    SELECT created_at INTO NEW.created_at FROM wallet_journalentry WHERE id = NEW.entry_id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER wallet_transfer_fill_created_at
    BEFORE INSERT ON wallet_transfer
    FOR EACH ROW WHEN (NEW.created_at IS NULL) EXECUTE FUNCTION wallet_transfer_fill_created_at();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS wallet_transfer_fill_created_at ON wallet_transfer;
DROP FUNCTION IF EXISTS wallet_transfer_fill_created_at();
"""



class Migration(migrations.Migration):
    dependencies = [("wallet", "0002_ledger_append_only")]
    operations = [
        migrations.AddField(model_name="transfer", name="created_at", field=models.DateTimeField(null=True)),
        RunSQLOnPostgres(FORWARD, BACKWARD),
    ]
