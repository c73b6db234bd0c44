import json

from django.core.management.base import BaseCommand, CommandError

from accounts.enums import STAFF_ROLES
from accounts.services import staff_create
from core.errors import DomainError


class Command(BaseCommand):
    help = "Create or promote a staff user with a TOTP device; prints one JSON line."

    def add_arguments(self, parser):
        parser.add_argument("--phone", required=True)
        parser.add_argument("--role", required=True, choices=sorted(STAFF_ROLES))
        parser.add_argument("--name", default="")
        parser.add_argument("--password", default=None, help="For the Django admin; generated if omitted.")

    def handle(self, *args, phone, role, name, password, **options):
        try:
            created = staff_create(phone=phone, role=role, name=name, password=password)
        except (ValueError, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            json.dumps(
                {
                    "phone": created.user.phone,
                    "role": created.user.role,
                    "totp_secret": created.totp_secret,
                    "totp_uri": created.totp_uri,
                    "password": created.password,
                }
            )
        )
