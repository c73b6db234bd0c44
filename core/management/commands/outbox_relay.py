"""Deliver outbox messages as they commit: `manage.py outbox_relay` (the Procfile's `outbox`).

Polls for due messages every `--poll` seconds (default `OUTBOX_POLL_SECONDS`) and drains
while any arrive. SIGTERM or SIGINT lets the message in hand finish, then exits 0. Safe to
run more than one (messages are claimed with `SKIP LOCKED`); beat's drain stays as the net.
"""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from core.outbox import outbox_relay


class Command(BaseCommand):
    help = "Deliver outbox messages as they commit (runs until SIGTERM)."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=None,
                            help="seconds between polls when nothing is pending (default: OUTBOX_POLL_SECONDS)")

    def handle(self, *args, poll=None, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        poll_seconds = settings.OUTBOX_POLL_SECONDS if poll is None else poll
        self.stdout.write(f"outbox relay: polling every {poll_seconds} s", ending="\n")
        self.stdout.flush()
        processed = outbox_relay(poll_seconds=poll_seconds, stop=stop)
        self.stdout.write(f"outbox relay: stopped after {processed} message(s)")
