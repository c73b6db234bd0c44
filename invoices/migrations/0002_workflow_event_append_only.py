"""On PostgreSQL, workflow events cannot be updated or deleted, whatever the code does.
Reuses core's `tranche_refuse_change()` trigger function (core/0002)."""

from django.db import migrations

from core.migration_operations import RunSQLOnPostgres

FORWARD = """
CREATE TRIGGER invoices_workflowevent_append_only
    BEFORE UPDATE OR DELETE ON invoices_workflowevent
    FOR EACH ROW EXECUTE FUNCTION tranche_refuse_change();
"""
BACKWARD = "DROP TRIGGER IF EXISTS invoices_workflowevent_append_only ON invoices_workflowevent;"



class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_audit_append_only"),
        ("invoices", "0001_initial"),
    ]

    operations = [RunSQLOnPostgres(FORWARD, BACKWARD)]
