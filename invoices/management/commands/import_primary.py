"""`manage.py import_primary --program ID`: pull financed invoices and repayments from an
external primary platform (`PRIMARY_PROVIDER=http`). With the default `local` provider this
app is the primary platform, so the command says there is nothing to import and stops."""

import json
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.tenancy import organization_get_by_slug
from core.errors import DomainError
from integrations.errors import IntegrationError
from invoices.models import Program
from invoices.services.imports import primary_import


class Command(BaseCommand):
    help = ("Pull financed invoices and repayments from the primary platform (PRIMARY_PROVIDER) into a program; "
            "idempotent. Prints one JSON line; exits non-zero if any record failed.")

    def add_arguments(self, parser):
        parser.add_argument("--organization", default="platform", metavar="SLUG")
        parser.add_argument("--program", type=int, default=None,
                            help="Id of the local program to import into (required with PRIMARY_PROVIDER=http).")
        parser.add_argument("--since", default=None, help="ISO time; only records changed since then.")

    def handle(self, *args, organization, program, since, **options):
        if settings.PRIMARY_PROVIDER == "local":
            self.stdout.write("Nothing to import: PRIMARY_PROVIDER is 'local', so this app is the primary platform "
                              "and its invoices are already here. To pull from an external primary platform, set "
                              "PRIMARY_PROVIDER=http, PRIMARY_API_URL and PRIMARY_API_TOKEN.")
            return
        if program is None:
            raise CommandError("--program is required: the id of the local program to import into.")
        try:
            tenant = organization_get_by_slug(slug=organization)
        except DomainError as exc:
            raise CommandError(str(exc.detail)) from exc
        target = Program.objects.filter(organization=tenant, pk=program).first()
        if target is None:
            raise CommandError(f"No program {program} in organization {organization!r}.")
        try:
            since_at = datetime.fromisoformat(since) if since else None
        except ValueError as exc:
            raise CommandError("--since must be an ISO date or time.") from exc
        try:
            report = primary_import(organization=tenant, program=target, since=since_at)
        except IntegrationError as exc:
            raise CommandError(f"The primary platform failed: {exc}") from exc
        self.stdout.write(json.dumps(report.__dict__))
        if report.errors:
            raise CommandError(f"{len(report.errors)} record(s) failed; see the list above.")
