"""On PostgreSQL, journal entries and transfers cannot be updated or deleted, whatever the
code does (a correction is a new, reversing entry). Reuses core's `tranche_refuse_change()`."""

from django.db import migrations

from core.migration_operations import RunSQLOnPostgres

FORWARD = """
CREATE TRIGGER wallet_journalentry_append_only
    BEFORE UPDATE OR DELETE ON wallet_journalentry
    FOR EACH ROW EXECUTE FUNCTION tranche_refuse_change();

CREATE TRIGGER wallet_transfer_append_only
    BEFORE UPDATE OR DELETE ON wallet_transfer
    FOR EACH ROW EXECUTE FUNCTION tranche_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS wallet_journalentry_append_only ON wallet_journalentry;
DROP TRIGGER IF EXISTS wallet_transfer_append_only ON wallet_transfer;
"""



class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial"), ("core", "0002_audit_append_only")]
    operations = [RunSQLOnPostgres(FORWARD, BACKWARD)]
