"""Re-encrypt every `EncryptedTextField` value under the primary key.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then drop the old keys. Tokens are rotated without decrypting them to
text (`MultiFernet.rotate`), in batches, each row under its lock; safe to re-run.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core.crypto import EncryptedTextField, rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field under the first FIELD_ENCRYPTION_KEYS key."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            rotated = self._rotate_model(model, fields, batch_size)
            total += rotated
            self.stdout.write(f"{model._meta.label}: {rotated} row(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} row(s)."))

    def _rotate_model(self, model, fields, batch_size: int) -> int:
        table = connection.ops.quote_name(model._meta.db_table)
        pk = connection.ops.quote_name(model._meta.pk.column)
        columns = [connection.ops.quote_name(f.column) for f in fields]
        rotated, last_pk = 0, None
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                # Raw SQL on purpose: the ORM would decrypt the tokens into text.
                where = f"WHERE {pk} > %s" if last_pk is not None else ""
                lock = "FOR UPDATE" if connection.features.has_select_for_update else ""
                cursor.execute(
                    f"SELECT {pk}, {', '.join(columns)} FROM {table} {where} ORDER BY {pk} LIMIT %s {lock}",  # noqa: S608
                    [last_pk, batch_size] if last_pk is not None else [batch_size],
                )
                rows = cursor.fetchall()
                if not rows:
                    return rotated
                assignments = ", ".join(f"{column} = %s" for column in columns)
                for row_pk, *tokens in rows:
                    cursor.execute(
                        f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608
                        [rotate(token) if token else token for token in tokens] + [row_pk],
                    )
                rotated += len(rows)
                last_pk = rows[-1][0]
