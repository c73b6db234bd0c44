"""Django's `createsuperuser`, refused: it makes a superuser with no authenticator, who can
never pass the admin's TOTP step. `create_staff` makes one who can."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Refused here: use `manage.py create_staff --phone PHONE --role super_admin` (staff sign in with TOTP)."

    def add_arguments(self, parser):
        # Accept whatever Django's own command accepts, so the refusal is what anyone sees.
        parser.add_argument("args", nargs="*")
        parser.add_argument("--noinput", "--no-input", action="store_true")
        parser.add_argument("--username", "--phone", "--email", "--database", dest="ignored", action="append")

    def handle(self, *args, **options):
        raise CommandError(
            "createsuperuser is disabled: the admin asks staff for an authenticator (TOTP) code, and a user made "
            "here has none, so they could never sign in. Use instead:\n"
            "  python manage.py create_staff --phone PHONE --role super_admin [--name NAME]\n"
            "It prints the TOTP secret (load it into an authenticator app) and the admin password."
        )
