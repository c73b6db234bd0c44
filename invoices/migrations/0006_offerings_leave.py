"""Offerings leave invoices for trading (issue 22; trading.0008 renamed their tables and took
them into its state): state only, nothing in the database changes."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('invoices', '0005_party_identifiers_encrypted'),
        ('servicing', '0004_offering_foreign_keys'),
        ('trading', '0008_offerings_move_in'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
                migrations.RemoveField(
                    model_name='offering',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='offering',
                    name='finance_request',
                ),
                migrations.RemoveField(
                    model_name='offering',
                    name='invoice',
                ),
                migrations.RemoveField(
                    model_name='offering',
                    name='organization',
                ),
                migrations.RemoveField(
                    model_name='offeringcashflow',
                    name='offering',
                ),

                migrations.DeleteModel(
                    name='Offering',
                ),
                migrations.DeleteModel(
                    name='OfferingCashFlow',
                ),

        ]),
    ]
