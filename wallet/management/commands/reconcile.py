"""`manage.py reconcile`: check every money invariant from the raw transfers; print each
difference and exit 1 on any (0 when clean). `--record` also stores a ReconciliationRun."""

import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Recompute every ledger balance from transfers and check the wallet's invariants."

    def add_arguments(self, parser):
        parser.add_argument("--record", action="store_true", help="Store the result as a ReconciliationRun.")

    def handle(self, *args, record=False, **options):
        if record:
            from wallet.tasks import reconcile_record

            differences = reconcile_record(trigger="command").differences
        else:
            from wallet.reconcile import reconcile

            differences = reconcile()
        for line in differences:
            self.stdout.write(line)
        if differences:
            self.stderr.write(f"reconcile: {len(differences)} difference(s)")
            sys.exit(1)
        self.stdout.write("reconcile: clean")
