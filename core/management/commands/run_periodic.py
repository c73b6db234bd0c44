"""Run beat jobs by hand: `manage.py run_periodic NAME` or `--all` (`--list` shows them).

On the embedded default there is no beat process, so this is how overdue marking, expiry
and the outbox drain run there. Names are the keys of `CELERY_BEAT_SCHEDULE`.
"""

from celery import current_app as app  # the project's app (config/__init__.py makes it current)
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run one periodic (beat) job, or all of them, in this process."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?")
        parser.add_argument("--all", action="store_true")
        parser.add_argument("--list", action="store_true")

    def handle(self, *args, name=None, all=False, list=False, **options):
        schedule = settings.CELERY_BEAT_SCHEDULE
        if list:
            for job, entry in schedule.items():
                self.stdout.write(f"{job}\t{entry['task']}")
            return
        if all == bool(name):
            raise CommandError("Give one job name or --all (see --list).")
        names = sorted(schedule) if all else [name]
        app.loader.import_default_modules()  # task modules are discovered lazily otherwise
        for job in names:
            if job not in schedule:
                raise CommandError(f"Unknown periodic job {job!r}. Known: {', '.join(sorted(schedule))}")
            task = app.tasks[schedule[job]["task"]]
            result = task.apply(args=schedule[job].get("args", ()), throw=True).get()
            self.stdout.write(f"{job}: {result}")
