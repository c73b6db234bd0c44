"""trading_settle() takes named arguments, finds the buyer's account itself and returns the
listing as the table's row type (trading/settlement/settle.sql): the signature changed, so the
old one is dropped first. Backwards it is dropped (the previous body is in the git history)."""

from django.db import migrations

from core.migration_operations import LoadSQLFile

OLD_SIGNATURE = """
DROP FUNCTION IF EXISTS trading_settle(bigint, bigint, integer, numeric, timestamptz, varchar[], varchar, varchar,
                                       varchar, varchar, varchar, varchar, varchar, integer, integer, bigint,
                                       varchar, bigint, bigint, bigint, varchar, varchar, bigint, inet, varchar,
                                       varchar, varchar[], varchar[], varchar[]);
"""
NEW_SIGNATURE = """
DROP FUNCTION IF EXISTS trading_settle(bigint, bigint, integer, numeric, timestamptz, varchar[], varchar, varchar,
                                       varchar, varchar, varchar, varchar, varchar, varchar, varchar, integer,
                                       integer, bigint, bigint, bigint, varchar, varchar, bigint, inet, varchar,
                                       varchar, varchar[], varchar[], varchar[]);
"""


class Migration(migrations.Migration):
    dependencies = [("trading", "0009_offerings_moved_rows")]
    operations = [LoadSQLFile("trading/settlement/settle.sql", sha256="6a37ccf533a11df284f6002bb15fdc11c978c2f20934cd5e7a709cac054dc59b", drop=[OLD_SIGNATURE],
                              reverse_sql=[NEW_SIGNATURE])]
