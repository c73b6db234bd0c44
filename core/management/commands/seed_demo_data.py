"""Fill an empty database with a living demo world.

Each app contributes a `demo.py` with `seed(world)`; apps are seeded in INSTALLED_APPS order
(which follows their dependencies), everything through the apps' services so the ledger and
`reconcile` stay clean. Each service commits on its own (no wrapping transaction), so a
failed run leaves a partial world: start again from an empty database.

Deterministic for a given `--seed` (ids and timestamps aside): every random choice comes
from `world.rng`. Sized by `--investors` and `--offerings`; the defaults finish in well
under a minute on the embedded SQLite default (`make run`).

A progress bar (tqdm, on a terminal) shows the apps as they seed; the apps' own log lines
(SMS console codes, task traces) are muted meanwhile unless `-v 2`. At the end: who can sign
in as what, and a count of what the world holds.
"""

import importlib
import logging
import random
from collections import Counter
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from tqdm import tqdm

from core.audit import AuditEvent

# (app_label, model, field to group by or None): what the summary counts, if the app exists.
INVENTORY = [
    ("accounts", "User", "role"),
    ("kyc", "KYCProfile", "status"),
    ("wallet", "Deposit", "status"),
    ("wallet", "Withdrawal", "status"),
    ("invoices", "Party", None),
    ("invoices", "Program", None),
    ("invoices", "Invoice", "status"),
    ("invoices", "Offering", "schedule_kind"),
    ("trading", "Listing", "kind"),
    ("trading", "Trade", None),
    ("bidding", "Bid", "status"),
    ("trading", "Distribution", "status"),
    ("trading", "TDSDeduction", None),
]


@dataclass
class World:
    """What the seeding apps share: the random source, sizes, and the sign-in summary."""

    rng: random.Random
    investors: int
    offerings: int
    users: dict[str, object] = field(default_factory=dict)
    summary: list[dict[str, str]] = field(default_factory=list)
    out: object = None

    def progress(self, message: str) -> None:
        if self.out is not None:
            tqdm.write(f"  … {message}", file=self.out)


def demo_modules() -> list:
    modules = []
    for config in apps.get_app_configs():
        try:
            modules.append(importlib.import_module(f"{config.name}.demo"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
    return modules


class Command(BaseCommand):
    help = "Create demo users and data (for `make run` and manual testing, never production)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--investors", type=int, default=8, help="How many investors (at least 4; default 8).")
        parser.add_argument("--offerings", type=int, default=5,
                            help="How many financed invoices to fractionalize (default 5: one per schedule kind).")
        parser.add_argument("--once", action="store_true", help="Do nothing if demo data already exists.")
        parser.add_argument("--force", action="store_true", help="Allow running with DEBUG off.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, seed, investors, offerings, once, force, no_progress, verbosity=1, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to seed demo data with DEBUG off (pass --force if you mean it).")
        if investors < 4 or offerings < 1:
            raise CommandError("Use at least 4 investors and 1 offering.")
        seeded = AuditEvent.objects.filter(action="demo.seeded").first() if once else None
        if seeded is not None:
            self.stdout.write("Demo data is already loaded.")
            self._print_summary(seeded.data.get("summary", []), seeded.data.get("inventory", {}))
            return
        world = World(rng=random.Random(seed), investors=investors, offerings=offerings, out=self.stdout._out)
        self.stdout.write(f"Seeding demo data (seed {seed}, {investors} investors, {offerings} offerings) …")
        modules = demo_modules()
        if verbosity < 2:
            logging.disable(logging.WARNING)  # the apps' INFO/WARNING chatter would break the bar
        try:
            bar = tqdm(modules, desc="seeding", unit="app", disable=True if no_progress else None,
                       file=self.stderr._out, leave=False)
            for module in bar:
                bar.set_postfix_str(module.__name__.split(".")[0])
                # No transaction around an app's seeding: each service commits on its own, as
                # in production, so the outbox's handlers (payouts, distributions,
                # notifications) run as they would and later steps see their results.
                module.seed(world)
            bar.close()
        finally:
            logging.disable(logging.NOTSET)
        inventory = self._inventory()
        with transaction.atomic():
            AuditEvent.objects.create(action="demo.seeded",
                                      data={"seed": seed, "summary": world.summary, "inventory": inventory})
        self._print_summary(world.summary, inventory)

    @staticmethod
    def _inventory() -> dict[str, dict[str, int]]:
        """What the world holds, per model and state (read-only; models of absent apps skipped)."""
        inventory = {}
        for app_label, model_name, group_by in INVENTORY:
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError:
                continue
            if group_by is None:
                inventory[model_name] = {"total": model.objects.count()}
            else:
                rows = model.objects.values(group_by).annotate(n=Count("pk")).order_by(group_by)
                inventory[model_name] = dict(Counter({str(row[group_by]): row["n"] for row in rows}))
        return inventory

    def _print_summary(self, summary: list[dict[str, str]], inventory: dict) -> None:
        if inventory:
            self.stdout.write("\nThe world:")
            for name, counts in inventory.items():
                detail = ", ".join(f"{key} {value}" for key, value in counts.items()) if counts else "none"
                self.stdout.write(f"  {name}: {detail}")
        self.stdout.write("\nWho can sign in (POST /api/v1/auth/otp/ then /api/v1/auth/otp/verify/;")
        self.stdout.write("the console SMS adapter prints each code in the server log; staff sign in to /admin/")
        self.stdout.write("with phone, password and a TOTP code from the secret):\n")
        for row in summary:
            self.stdout.write("  " + "  ".join(f"{key}={value}" for key, value in row.items()))
        self.stdout.write("")
