"""`manage.py create_staff --phone P --role R`: a staff user with an authenticator (TOTP).

Prints one JSON line (phone, role, organization, TOTP secret and URI, password, and what
was done: `created`, `promoted` or `credentials_reset`) and says the same in a sentence on
stderr. An existing staff phone or an existing investor is refused unless the operator
asks for the change (`--reset-credentials`, `--promote`): each one locks someone out of
something or grants them the admin.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from accounts.enums import PLATFORM_ORGANIZATION_SLUG, STAFF_ROLES
from accounts.services import staff_create
from core.errors import DomainError

SAID = {
    "created": "Created staff user {phone} ({role}) in {organization}.",
    "promoted": "Promoted existing user {phone} to staff ({role}) in {organization}.",
    "credentials_reset": "Reset the password and TOTP secret of staff user {phone} ({role}); "
                         "their old authenticator no longer works.",
}


class Command(BaseCommand):
    help = ("Create a staff user with a TOTP device; prints one JSON line with the secret and password. "
            "Refuses an existing staff phone (see --reset-credentials) or an existing investor (see --promote).")

    def add_arguments(self, parser):
        parser.add_argument("--phone", required=True)
        parser.add_argument("--role", required=True, choices=sorted(STAFF_ROLES))
        parser.add_argument("--name", default="")
        parser.add_argument("--password", default=None, help="For the Django admin; generated if omitted.")
        parser.add_argument("--organization", default=None, metavar="SLUG",
                            help="Organization the user joins (default: the platform organization).")
        parser.add_argument("--promote", action="store_true",
                            help="Make an existing non-staff user (an investor) staff.")
        parser.add_argument("--reset-credentials", action="store_true",
                            help="Existing staff user: new password and TOTP secret (the old ones stop working).")

    def handle(self, *args, phone, role, name, password, organization=None, promote=False, reset_credentials=False,
               **options):
        try:
            created = staff_create(phone=phone, role=role, name=name, password=password, organization=organization,
                                   promote=promote, reset_credentials=reset_credentials)
        except (ValueError, DomainError) as exc:
            raise CommandError(exc.detail if isinstance(exc, DomainError) else str(exc)) from exc
        tenant = organization or PLATFORM_ORGANIZATION_SLUG
        self.stdout.write(
            json.dumps(
                {
                    "phone": created.user.phone,
                    "role": created.user.role,
                    "organization": tenant,
                    "action": created.action,
                    "totp_secret": created.totp_secret,
                    "totp_uri": created.totp_uri,
                    "password": created.password,
                }
            )
        )
        self.stderr.write(SAID[created.action].format(phone=created.user.phone, role=created.user.role,
                                                      organization=tenant))
