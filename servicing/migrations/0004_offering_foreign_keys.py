"""Servicing's foreign keys follow offerings to trading (trading.0008 renamed their tables;
the constraints in the database followed by themselves): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('servicing', '0003_moved_rows'),
        ('trading', '0008_offerings_move_in'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
                migrations.AlterField(
                    model_name='distribution',
                    name='offering',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='distributions', to='trading.offering'),
                ),
                migrations.AlterField(
                    model_name='distributioncashflow',
                    name='cash_flow',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='trading.offeringcashflow'),
                ),
                migrations.AlterField(
                    model_name='distributionline',
                    name='offering',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='trading.offering'),
                ),

        ]),
    ]
