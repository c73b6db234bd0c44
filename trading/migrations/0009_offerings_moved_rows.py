"""After offerings moved to trading (0008): their index takes trading's name, and their
content types move with them (permissions and admin history keep pointing at the same
models). Reversible."""

from django.db import migrations

MODELS = ("offering", "offeringcashflow")


def _content_types(apps, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor):
    _content_types(apps, old="invoices", new="trading")


def backwards(apps, schema_editor):
    _content_types(apps, old="trading", new="invoices")


class Migration(migrations.Migration):

    dependencies = [
        ('invoices', '0006_offerings_leave'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('trading', '0008_offerings_move_in'),
    ]

    operations = [
        migrations.RenameIndex(
            model_name='offering',
            new_name='trading_off_status_cf271d_idx',
            old_name='invoices_of_status_02159a_idx',
        ),

        migrations.RunPython(forwards, backwards),
    ]
