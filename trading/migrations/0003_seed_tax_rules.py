"""Seeded the TDS rules when tax lived in trading; the seed is now tax's own migration
(`tax/migrations/0004_seed_tax_rules.py`), so this one does nothing and stays for the
migration graph."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("trading", "0002_servicing")]

    operations = []
