# The outbox is a queue: every message is inserted pending and updated to processed a moment
# later, so its pending indexes fill with entries of rows no longer pending until VACUUM
# removes them, and every claim walks over them (measured: 12 ms for a claim of 10 after
# 50,000 deliveries without a vacuum, 0.04 ms after one). PostgreSQL's default autovacuum
# waits for 20 % of the table to be dead, which on a table that keeps its history is
# rarely; so the outbox is vacuumed and analysed every few thousand changed rows whatever its
# size (ADR 0009).

from django.db import migrations

from core.migration_operations import RunSQLOnPostgres


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_outbox_pending_id_index'),
    ]

    operations = [
        RunSQLOnPostgres(
            "ALTER TABLE core_outboxmessage SET (autovacuum_vacuum_scale_factor = 0, "
            "autovacuum_vacuum_threshold = 5000, autovacuum_analyze_scale_factor = 0, "
            "autovacuum_analyze_threshold = 5000, autovacuum_vacuum_cost_delay = 0)",
            "ALTER TABLE core_outboxmessage RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
            "autovacuum_analyze_scale_factor, autovacuum_analyze_threshold, autovacuum_vacuum_cost_delay)",
        ),
    ]
