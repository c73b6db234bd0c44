"""A party's PAN and GSTIN encrypted at rest, unique through blind indexes (DESIGN.md section 8).

The columns become text (a Fernet token is longer than a PAN), the existing values are
encrypted and indexed in place, then the field is declared encrypted and the uniqueness moves
to the indexes. Backwards it decrypts them again. Parties are a small table: one pass.
"""

from django.db import migrations, models

import core.crypto

FIELDS = ("pan", "gstin")


def encrypt_identifiers(apps, schema_editor):
    # Here `pan` and `gstin` are still plain text fields in the historical model.
    Party = apps.get_model("invoices", "Party")
    for party in Party.objects.using(schema_editor.connection.alias).only("pk", *FIELDS).iterator():
        changes = {}
        for name in FIELDS:
            plain = getattr(party, name)
            changes[name] = core.crypto.encrypt(plain) if plain else ""
            changes[f"{name}_index"] = core.crypto.blind_index(plain) if plain else ""
        Party.objects.using(schema_editor.connection.alias).filter(pk=party.pk).update(**changes)


def decrypt_identifiers(apps, schema_editor):
    Party = apps.get_model("invoices", "Party")
    for party in Party.objects.using(schema_editor.connection.alias).only("pk", *FIELDS).iterator():
        changes = {name: core.crypto.decrypt(getattr(party, name)) if getattr(party, name) else "" for name in FIELDS}
        Party.objects.using(schema_editor.connection.alias).filter(pk=party.pk).update(**changes)


class Migration(migrations.Migration):

    dependencies = [
        ("invoices", "0004_money_checks_rounded"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="party", name="invoices_party_org_pan_uniq"),
        migrations.RemoveConstraint(model_name="party", name="invoices_party_org_gstin_uniq"),
        migrations.AddField(
            model_name="party",
            name="pan_index",
            field=models.CharField(default="", help_text="Blind index of the PAN (core.crypto).", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="party",
            name="gstin_index",
            field=models.CharField(blank=True, default="", help_text="Blind index of the GSTIN; empty without one.",
                                   max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="party",
            name="pan",
            field=models.TextField(help_text="Business PAN (validated; also embedded in the GSTIN)."),
        ),
        migrations.AlterField(
            model_name="party",
            name="gstin",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(encrypt_identifiers, decrypt_identifiers, elidable=False),
        migrations.AlterField(
            model_name="party",
            name="pan",
            field=core.crypto.EncryptedTextField(help_text="Business PAN (validated; also embedded in the GSTIN)."),
        ),
        migrations.AlterField(
            model_name="party",
            name="gstin",
            field=core.crypto.EncryptedTextField(blank=True),
        ),
        migrations.AddConstraint(
            model_name="party",
            constraint=models.UniqueConstraint(fields=("organization", "pan_index"),
                                               name="invoices_party_org_pan_index_uniq"),
        ),
        migrations.AddConstraint(
            model_name="party",
            constraint=models.UniqueConstraint(condition=~models.Q(gstin_index=""), fields=("organization", "gstin_index"),
                                               name="invoices_party_org_gstin_index_uniq"),
        ),
        migrations.AddConstraint(
            model_name="party",
            constraint=models.CheckConstraint(condition=~models.Q(pan_index=""), name="invoices_party_pan_index_set"),
        ),
    ]
