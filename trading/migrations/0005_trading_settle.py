"""`trading_settle()`, the fill as one PostgreSQL function (ADR 0005). Its body is
`trading/settlement/settle.sql`, loaded from the file (see `LoadSQLFile`); what it does is
said in `trading/settlement/__init__.py`."""

from django.db import migrations

from core.migration_operations import LoadSQLFile

DROP_0005 = """
DROP FUNCTION IF EXISTS trading_settle(bigint, bigint, integer, numeric, timestamptz, varchar[], varchar, varchar,
                                       varchar, varchar, varchar, varchar, varchar, integer, integer, bigint,
                                       varchar, bigint, bigint, bigint, varchar, varchar, bigint, inet, varchar,
                                       varchar, varchar[], varchar[], varchar[]);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0004_money_checks_rounded"),
        ("wallet", "0005_wallet_post_entry"),
        ("invoices", "0004_money_checks_rounded"),
    ]
    operations = [LoadSQLFile("trading/settlement/settle.sql", sha256="bffe6a4e54112f453d6c8c04a7b67820ff4bf679fc470d61210466d006418020", reverse_sql=[DROP_0005])]
