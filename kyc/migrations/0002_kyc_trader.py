"""`kyc_trader()`, the onboarding gate as a PostgreSQL function (ADR 0005). Its body is
`kyc/gate/trader.sql`, loaded from the file (`LoadSQLFile`); what it does is said in
`kyc/gate/__init__.py`."""

from django.db import migrations

from core.migration_operations import LoadSQLFile


class Migration(migrations.Migration):
    dependencies = [("kyc", "0001_initial")]
    operations = [LoadSQLFile("kyc/gate/trader.sql", sha256="06d339dfd738a3a885740d453f4c52b2e387757939b99599ae73caa2a539573c",
                              reverse_sql=["DROP FUNCTION IF EXISTS kyc_trader(bigint, varchar, varchar, varchar, varchar);"])]
