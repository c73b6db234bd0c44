import json

from django.core.management.base import BaseCommand, CommandError

from accounts.enums import PLATFORM_ORGANIZATION_SLUG, STAFF_ROLES
from accounts.services import staff_create
from core.errors import DomainError


class Command(BaseCommand):
    help = "Create or promote a staff user with a TOTP device; prints one JSON line."

    def add_arguments(self, parser):
        parser.add_argument("--phone", required=True)
        parser.add_argument("--role", required=True, choices=sorted(STAFF_ROLES))
        parser.add_argument("--name", default="")
        parser.add_argument("--password", default=None, help="For the Django admin; generated if omitted.")
        parser.add_argument("--organization", default=None, metavar="SLUG",
                            help="Organization the user joins (default: the platform organization).")

    def handle(self, *args, phone, role, name, password, organization=None, **options):
        try:
            created = staff_create(phone=phone, role=role, name=name, password=password, organization=organization)
        except (ValueError, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            json.dumps(
                {
                    "phone": created.user.phone,
                    "role": created.user.role,
                    "organization": organization or PLATFORM_ORGANIZATION_SLUG,
                    "totp_secret": created.totp_secret,
                    "totp_uri": created.totp_uri,
                    "password": created.password,
                }
            )
        )
