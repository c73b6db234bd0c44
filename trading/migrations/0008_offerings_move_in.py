"""Offerings move from invoices to trading, their owner (issue 22): `Offering` and
`OfferingCashFlow` become trading's models, every row kept.

The tables are renamed to trading's names (`invoices_offering` → `trading_offering`, and the
cash flows' likewise); the models enter trading's state as they are (the index keeps its
name until 0009 renames it), and the foreign keys of trading's own models follow them.
Foreign-key constraints in the database follow a renamed table by themselves. The buy's
database function names the table, so it is loaded again. `invoices.0006` then drops the
models from invoices' state. Reversible.
"""

from decimal import Decimal

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import core.money
from core.migration_operations import LoadSQLFile


def rename_tables(apps, schema_editor, *, forwards: bool) -> None:
    for model, old, new in (("offering", "invoices_offering", "trading_offering"),
                            ("offeringcashflow", "invoices_offeringcashflow", "trading_offeringcashflow")):
        source, target = (old, new) if forwards else (new, old)
        schema_editor.alter_db_table(apps.get_model("invoices", model), source, target)


def tables_to_trading(apps, schema_editor):
    rename_tables(apps, schema_editor, forwards=True)


def tables_to_invoices(apps, schema_editor):
    rename_tables(apps, schema_editor, forwards=False)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_organizations'),
        ('invoices', '0005_party_identifiers_encrypted'),
        ('servicing', '0003_moved_rows'),
        ('trading', '0007_servicing_and_tax_move_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(tables_to_trading, tables_to_invoices),
                LoadSQLFile("trading/settlement/settle.sql", sha256="bffe6a4e54112f453d6c8c04a7b67820ff4bf679fc470d61210466d006418020"),
            ],
            state_operations=[
                        migrations.CreateModel(
                            name='Offering',
                            fields=[
                                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                                ('title', models.CharField(max_length=200)),
                                ('total_units', models.PositiveIntegerField()),
                                ('unit_face_value', core.money.MoneyField()),
                                ('issue_price', core.money.MoneyField(help_text='Price per unit when first offered.')),
                                ('schedule_kind', models.CharField(choices=[('bullet', 'Bullet (one payment at maturity)'), ('equal_principal', 'Equal principal'), ('amortizing', 'Amortizing (EMI)'), ('balloon', 'Balloon'), ('interest_only', 'Interest only')], max_length=16)),
                                ('frequency', models.CharField(blank=True, choices=[('monthly', 'Monthly'), ('quarterly', 'Quarterly'), ('half_yearly', 'Half-yearly'), ('annual', 'Annual')], max_length=12)),
                                ('annual_rate', models.DecimalField(decimal_places=6, help_text='Annual effective rate as a fraction (0.12 = 12%).', max_digits=9)),
                                ('balloon_share', models.DecimalField(blank=True, decimal_places=4, max_digits=5, null=True)),
                                ('start_date', models.DateField()),
                                ('maturity_date', models.DateField()),
                                ('implied_xirr', models.DecimalField(decimal_places=8, help_text="Buyer's XIRR at the issue price.", max_digits=12)),
                                ('status', models.CharField(choices=[('configured', 'Configured'), ('posted', 'Posted for sale'), ('sold_out', 'Sold out'), ('matured', 'Matured'), ('defaulted', 'Defaulted')], default='configured', max_length=12)),
                                ('status_reason', models.CharField(blank=True, max_length=255)),
                                ('days_past_due', models.PositiveIntegerField(default=0)),
                                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                                ('finance_request', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='offerings', to='invoices.financerequest')),
                                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='offerings', to='invoices.invoice')),
                                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.organization')),
                            ],
                            options={
                                'ordering': ('-id',),
                            },
                        ),
                        migrations.AlterField(
                            model_name='holding',
                            name='offering',
                            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='holdings', to='trading.offering'),
                        ),
                        migrations.AlterField(
                            model_name='listing',
                            name='offering',
                            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='listings', to='trading.offering'),
                        ),
                        migrations.AlterField(
                            model_name='trade',
                            name='offering',
                            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='trades', to='trading.offering'),
                        ),
                        migrations.AlterField(
                            model_name='unittransfer',
                            name='offering',
                            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='unit_transfers', to='trading.offering'),
                        ),
                        migrations.CreateModel(
                            name='OfferingCashFlow',
                            fields=[
                                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                                ('sequence', models.PositiveSmallIntegerField()),
                                ('due_date', models.DateField()),
                                ('principal', core.money.MoneyField(help_text='Per unit.')),
                                ('interest', core.money.MoneyField(help_text='Per unit.')),
                                ('paid_principal', core.money.MoneyField(default=Decimal('0.00'), help_text='Per unit, paid so far.')),
                                ('paid_interest', core.money.MoneyField(default=Decimal('0.00'), help_text='Per unit, paid so far.')),
                                ('offering', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='cash_flows', to='trading.offering')),
                            ],
                            options={
                                'ordering': ('offering_id', 'sequence'),
                            },
                        ),
                        migrations.AddIndex(
                            model_name='offering',
                            index=models.Index(fields=['status', 'maturity_date'], name='invoices_of_status_02159a_idx'),
                        ),
                        migrations.AddConstraint(
                            model_name='offering',
                            constraint=models.UniqueConstraint(fields=('organization', 'invoice'), name='offering_one_per_invoice'),
                        ),
                        migrations.AddConstraint(
                            model_name='offering',
                            constraint=models.CheckConstraint(condition=models.Q(('total_units__gt', 0)), name='offering_units_positive'),
                        ),
                        migrations.AddConstraint(
                            model_name='offering',
                            constraint=models.CheckConstraint(condition=models.Q(('unit_face_value__gt', 0)), name='offering_face_positive'),
                        ),
                        migrations.AddConstraint(
                            model_name='offering',
                            constraint=models.CheckConstraint(condition=models.Q(('issue_price__gt', 0)), name='offering_price_positive'),
                        ),
                        migrations.AddConstraint(
                            model_name='offering',
                            constraint=models.CheckConstraint(condition=models.Q(('maturity_date__gt', models.F('start_date'))), name='offering_matures_after_start'),
                        ),
                        migrations.AddConstraint(
                            model_name='offeringcashflow',
                            constraint=models.UniqueConstraint(fields=('offering', 'sequence'), name='offering_cash_flow_sequence_uniq'),
                        ),
                        migrations.AddConstraint(
                            model_name='offeringcashflow',
                            constraint=models.CheckConstraint(condition=models.Q(('principal__gte', 0), ('interest__gte', 0)), name='offering_cash_flow_nonneg'),
                        ),

            ],
        ),
    ]
