"""On PostgreSQL, a bid's history cannot be updated or deleted, whatever the code does.
Reuses core's `tranche_refuse_change()`."""

from django.db import migrations

from core.migration_operations import RunSQLOnPostgres

FORWARD = """
CREATE TRIGGER bidding_bidevent_append_only
    BEFORE UPDATE OR DELETE ON bidding_bidevent
    FOR EACH ROW EXECUTE FUNCTION tranche_refuse_change();
"""

BACKWARD = "DROP TRIGGER IF EXISTS bidding_bidevent_append_only ON bidding_bidevent;"



class Migration(migrations.Migration):
    dependencies = [("bidding", "0001_initial"), ("core", "0002_audit_append_only")]
    operations = [RunSQLOnPostgres(FORWARD, BACKWARD)]
