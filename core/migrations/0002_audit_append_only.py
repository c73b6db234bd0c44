"""On PostgreSQL, audit events cannot be updated or deleted, whatever the code does."""

from django.db import migrations

from core.migration_operations import RunSQLOnPostgres

FORWARD = """
CREATE OR REPLACE FUNCTION tranche_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER core_auditevent_append_only
    BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION tranche_refuse_change();
"""

BACKWARD = "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;"



class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [RunSQLOnPostgres(FORWARD, BACKWARD)]
