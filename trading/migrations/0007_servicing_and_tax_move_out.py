"""Servicing and tax leave the trading app (issue 22): `servicing` (distributions and their
lines) and `tax` (TDS rules, Form 15G/15H, deductions) become apps of their own.

Every row is kept: the tables are renamed to their new apps' names here, and the models
leave trading's state; `servicing.0001_initial` and `tax.0001_initial` take them into their
own state without touching the database. Reversible: backwards, the tables get their old
names back.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('trading', '0006_lean_write_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name='distribution', table='servicing_distribution'),
                migrations.AlterModelTable(name='distributioncashflow', table='servicing_distributioncashflow'),
                migrations.AlterModelTable(name='distributionline', table='servicing_distributionline'),
                migrations.AlterModelTable(name='taxrule', table='tax_taxrule'),
                migrations.AlterModelTable(name='taxdeclaration', table='tax_taxdeclaration'),
                migrations.AlterModelTable(name='tdsdeduction', table='tax_tdsdeduction'),
            ],
            state_operations=[
                migrations.RemoveField(
                    model_name='distributioncashflow',
                    name='distribution',
                ),
                migrations.RemoveField(
                    model_name='distributionline',
                    name='distribution',
                ),
                migrations.RemoveField(
                    model_name='distributioncashflow',
                    name='cash_flow',
                ),
                migrations.RemoveField(
                    model_name='distributionline',
                    name='holding',
                ),
                migrations.RemoveField(
                    model_name='distributionline',
                    name='offering',
                ),
                migrations.RemoveField(
                    model_name='distributionline',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='tdsdeduction',
                    name='distribution_line',
                ),
                migrations.RemoveField(
                    model_name='taxdeclaration',
                    name='decided_by',
                ),
                migrations.RemoveField(
                    model_name='taxdeclaration',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='tdsdeduction',
                    name='tax_rule',
                ),
                migrations.RemoveField(
                    model_name='tdsdeduction',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='Distribution',
                ),
                migrations.DeleteModel(
                    name='DistributionCashFlow',
                ),
                migrations.DeleteModel(
                    name='DistributionLine',
                ),
                migrations.DeleteModel(
                    name='TaxDeclaration',
                ),
                migrations.DeleteModel(
                    name='TaxRule',
                ),
                migrations.DeleteModel(
                    name='TDSDeduction',
                ),

            ],
        ),
    ]
