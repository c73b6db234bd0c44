"""What else named servicing's and tax's models by their old app (issue 22), renamed so
nothing is orphaned: the content types (permissions and admin history keep pointing at
the same models) and the outbox messages addressed to servicing's handlers (a pending one
is still delivered: a message names its handler by module path). Reversible."""

from django.db import migrations
from django.db.models import Value
from django.db.models.functions import Concat, Substr

MODELS = {"distribution": "servicing", "distributioncashflow": "servicing", "distributionline": "servicing",
          "taxrule": "tax", "taxdeclaration": "tax", "tdsdeduction": "tax"}
OLD_HANDLERS, NEW_HANDLERS = "trading.servicing.handlers.", "servicing.handlers."


def _content_types(apps, *, forwards: bool) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MODELS.items():
        old, new = ("trading", app_label) if forwards else (app_label, "trading")
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def _handlers(apps, *, old: str, new: str) -> None:
    OutboxMessage = apps.get_model("core", "OutboxMessage")
    OutboxMessage.objects.filter(handler__startswith=old).update(
        handler=Concat(Value(new), Substr("handler", len(old) + 1)))


def forwards(apps, schema_editor):
    _content_types(apps, forwards=True)
    _handlers(apps, old=OLD_HANDLERS, new=NEW_HANDLERS)


def backwards(apps, schema_editor):
    _content_types(apps, forwards=False)
    _handlers(apps, old=NEW_HANDLERS, new=OLD_HANDLERS)


class Migration(migrations.Migration):

    dependencies = [
        ("servicing", "0002_index_names"),
        ("tax", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
