"""A deduction names the income line it was computed for by `source_type` and `source_id`
instead of a one-to-one link to servicing's `DistributionLine`, so any app that pays
investors income (funds next) records its TDS the same way, and tax imports none of them.
Every row keeps its line: `distribution_line_id` is copied into `source_id`."""

from django.db import migrations, models

DISTRIBUTION_LINE = "servicing.distributionline"


def copy_lines(apps, schema_editor):
    TDSDeduction = apps.get_model("tax", "TDSDeduction")
    TDSDeduction.objects.update(source_type=DISTRIBUTION_LINE, source_id=models.F("distribution_line_id"))


def restore_lines(apps, schema_editor):
    TDSDeduction = apps.get_model("tax", "TDSDeduction")
    TDSDeduction.objects.filter(source_type=DISTRIBUTION_LINE).update(distribution_line_id=models.F("source_id"))


class Migration(migrations.Migration):

    dependencies = [
        ('tax', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='tdsdeduction',
            name='source_type',
            field=models.CharField(default=DISTRIBUTION_LINE, help_text='What paid the income: `servicing.distributionline`.', max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='tdsdeduction',
            name='source_id',
            field=models.PositiveBigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='tdsdeduction',
            name='distribution_line',
            field=models.OneToOneField(null=True, on_delete=models.PROTECT, related_name='deduction', to='servicing.distributionline'),
        ),
        migrations.RunPython(copy_lines, restore_lines),
        migrations.RemoveField(
            model_name='tdsdeduction',
            name='distribution_line',
        ),
        migrations.AddConstraint(
            model_name='tdsdeduction',
            constraint=models.UniqueConstraint(fields=('source_type', 'source_id'), name='tds_deduction_one_per_source'),
        ),
    ]
