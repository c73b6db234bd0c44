"""`wallet_post_entry()` and `wallet_hold_take()`: the ledger's posting and a bid hold's take as
PostgreSQL functions (ADR 0005). Their bodies are `wallet/posting/post_entry.sql` and
`wallet/posting/hold_take.sql`, loaded from the files (`LoadSQLFile`); what they do is said
in `wallet/posting/__init__.py`. Nothing on SQLite."""

from django.db import migrations

from core.migration_operations import LoadSQLFile


class Migration(migrations.Migration):
    dependencies = [("wallet", "0004_transfer_created_at_backfill"), ("core", "0002_audit_append_only")]
    operations = [
        LoadSQLFile("wallet/posting/post_entry.sql", sha256="2c07c82c6b41b370fea60028c3ae900fadeebe2735e0593fbddb3a85f7aab70e",
                    reverse_sql=["DROP FUNCTION IF EXISTS wallet_post_entry(varchar, varchar, varchar, bigint, varchar, timestamptz, bigint[], bigint[], numeric[], bigint, inet, varchar);"]),
        LoadSQLFile("wallet/posting/hold_take.sql", sha256="1f6bc1aa397b340d882485bc8e06f8cc7a57091a2dbf03e5472eeb018a5607a8",
                    reverse_sql=["DROP FUNCTION IF EXISTS wallet_hold_take(bigint, varchar, numeric, timestamptz);"]),
    ]
