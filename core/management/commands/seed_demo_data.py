"""Fill an empty database with a small, living demo world.

Each app contributes a `demo.py` with `seed(world)`; apps are seeded in INSTALLED_APPS order
(which follows their dependencies), everything through the apps' services so the ledger and
`reconcile` stay clean. Deterministic for a given `--seed`.
"""

import importlib
import random
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.audit import AuditEvent


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
            self.out.write(f"  … {message}")


class Command(BaseCommand):
    help = "Create demo users and data (for `make run` and manual testing, never production)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--investors", type=int, default=6)
        parser.add_argument("--offerings", type=int, default=4)
        parser.add_argument("--once", action="store_true", help="Do nothing if demo data already exists.")
        parser.add_argument("--force", action="store_true", help="Allow running with DEBUG off.")

    def handle(self, *args, seed, investors, offerings, once, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to seed demo data with DEBUG off (pass --force if you mean it).")
        seeded = AuditEvent.objects.filter(action="demo.seeded").first() if once else None
        if seeded is not None:
            self.stdout.write("Demo data is already loaded.")
            self._print_summary(seeded.data.get("summary", []))
            return
        world = World(rng=random.Random(seed), investors=investors, offerings=offerings, out=self.stdout)
        self.stdout.write(f"Seeding demo data (seed {seed}) …")
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(world)
        with transaction.atomic():
            AuditEvent.objects.create(action="demo.seeded", data={"seed": seed, "summary": world.summary})
        self._print_summary(world.summary)

    def _print_summary(self, summary: list[dict[str, str]]) -> None:
        self.stdout.write("\nWho can sign in (POST /api/v1/auth/otp/ then /api/v1/auth/otp/verify/;")
        self.stdout.write("the console SMS adapter prints each code in the server log):\n")
        for row in summary:
            self.stdout.write("  " + "  ".join(f"{key}={value}" for key, value in row.items()))
        self.stdout.write("")
