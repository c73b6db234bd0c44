"""Run beat jobs by hand: `manage.py run_periodic NAME` or `--all`; `--list` shows each job's
schedule.

On the embedded default there is no beat process, so this is how overdue marking, expiry
and the outbox drain run there. Names are the keys of `CELERY_BEAT_SCHEDULE`. Each job
prints one line (name, ok or FAILED, time taken, its result); the jobs' own INFO logs are
held back unless `-v 2`, so the lines are not buried in JSON. A failed job does not stop
the others; the command then exits non-zero.
"""

import logging
import time
from contextlib import contextmanager
from datetime import timedelta

from celery import current_app
from celery.schedules import crontab
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def schedule_describe(schedule) -> str:
    """`every 5 s`, `every 1 h`, `daily at 02:30`… for a beat entry's schedule."""
    if isinstance(schedule, timedelta):
        schedule = schedule.total_seconds()
    if isinstance(schedule, int | float):
        seconds = float(schedule)
        for unit, size in (("h", 3600), ("min", 60)):
            if seconds >= size and seconds % size == 0:
                return f"every {seconds / size:g} {unit}"
        return f"every {seconds:g} s"
    if isinstance(schedule, crontab):
        minutes, hours = sorted(schedule.minute), sorted(schedule.hour)
        every_day = (len(schedule.day_of_week) == 7 and len(schedule.day_of_month) == 31
                     and len(schedule.month_of_year) == 12)
        if every_day and len(minutes) == 1 and len(hours) == 1:
            return f"daily at {hours[0]:02d}:{minutes[0]:02d}"
        return (f"cron {schedule._orig_minute} {schedule._orig_hour} {schedule._orig_day_of_month} "
                f"{schedule._orig_month_of_year} {schedule._orig_day_of_week}")
    return str(schedule)


def result_describe(result) -> str:
    if isinstance(result, dict):
        return " ".join(f"{key}={value}" for key, value in result.items())
    return "" if result is None else str(result)


@contextmanager
def quiet_logs(verbosity: int):
    """Hold back INFO logs (each task's own, Celery's "Task … succeeded") below -v 2."""
    root = logging.getLogger()
    previous = root.level
    if verbosity < 2:
        root.setLevel(max(previous, logging.WARNING))
    try:
        yield
    finally:
        root.setLevel(previous)


class Command(BaseCommand):
    help = "Run one periodic (beat) job, or all of them, in this process; --list shows their schedules."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?")
        parser.add_argument("--all", action="store_true")
        parser.add_argument("--list", action="store_true", help="Each job's schedule and task.")

    def handle(self, *args, name=None, all=False, list=False, verbosity=1, **options):
        schedule = settings.CELERY_BEAT_SCHEDULE
        width = max(map(len, schedule))
        if list:
            self.stdout.write(f"Times are {settings.CELERY_TIMEZONE}; beat runs these in production.")
            for job, entry in schedule.items():
                self.stdout.write(f"{job:<{width}}  {schedule_describe(entry['schedule']):<16}  {entry['task']}")
            return
        if all == bool(name):
            raise CommandError("Give one job name or --all (see --list).")
        names = sorted(schedule) if all else [name]
        for job in names:
            if job not in schedule:
                raise CommandError(f"Unknown periodic job {job!r}. Known: {', '.join(sorted(schedule))}")
        app = current_app
        app.loader.import_default_modules()  # task modules are discovered lazily otherwise
        failed = []
        with quiet_logs(verbosity):
            for job in names:
                task = app.tasks[schedule[job]["task"]]
                started = time.monotonic()
                try:
                    result = task.apply(args=schedule[job].get("args", ()), throw=True).get()
                except Exception as exc:  # one job's failure is reported, the others still run
                    failed.append(job)
                    line = f"{job:<{width}}  FAILED  {time.monotonic() - started:6.2f} s  {type(exc).__name__}: {exc}"
                    self.stdout.write(self.style.ERROR(line))
                    continue
                line = f"{job:<{width}}  ok      {time.monotonic() - started:6.2f} s  {result_describe(result)}"
                self.stdout.write(line.rstrip())
        if failed:
            raise CommandError(f"{len(failed)} of {len(names)} job(s) failed: {', '.join(failed)}")
