"""Deliver outbox messages as they commit: `manage.py outbox_relay` (the Procfile's `outbox`).

Polls for due messages every `--poll` seconds (default `OUTBOX_POLL_SECONDS`) and drains
while any arrive. SIGTERM or SIGINT lets the batch or message in hand finish, then exits 0.
Safe to run any number side by side (messages are claimed with `SKIP LOCKED`; ordered
handlers take turns, ADR 0009); beat's drain stays as the net.

Scaling: `--processes N` (the Procfile passes `${OUTBOX_CONCURRENCY:-1}`, as `worker` passes
its concurrency) runs N relay processes under this one, which restarts any that dies and
passes SIGTERM on; running the `outbox` process type N times does the same across machines.
"""

import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from core.outbox import outbox_relay


class Command(BaseCommand):
    help = "Deliver outbox messages as they commit (runs until SIGTERM)."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=None,
                            help="seconds between polls when nothing is pending (default: OUTBOX_POLL_SECONDS)")
        parser.add_argument("--processes", type=int, default=1,
                            help="relay processes to run side by side under this one (default 1: this one relays)")

    def handle(self, *args, poll=None, processes=1, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        poll_seconds = settings.OUTBOX_POLL_SECONDS if poll is None else poll
        if processes > 1:
            self.supervise(processes=processes, poll_seconds=poll_seconds, stop=stop)
            return
        self.stdout.write(f"outbox relay: polling every {poll_seconds} s", ending="\n")
        self.stdout.flush()
        processed = outbox_relay(poll_seconds=poll_seconds, stop=stop)
        self.stdout.write(f"outbox relay: stopped after {processed} message(s)")

    def supervise(self, *, processes: int, poll_seconds: float, stop: threading.Event) -> None:
        """Run `processes` single relays; restart one that exits while we run (a crash, an
        OOM kill), at most once a second each; on SIGTERM, pass it on and wait for them."""
        command = [sys.executable, sys.argv[0], "outbox_relay", "--poll", str(poll_seconds)]
        self.stdout.write(f"outbox relay: supervising {processes} relay processes", ending="\n")
        self.stdout.flush()
        children: list[subprocess.Popen | None] = [None] * processes
        started = [0.0] * processes
        while not stop.is_set():
            for number, child in enumerate(children):
                if (child is None or child.poll() is not None) and time.monotonic() - started[number] >= 1:
                    if child is not None:
                        self.stderr.write(f"outbox relay {number + 1} exited with {child.returncode}; restarting")
                    children[number] = subprocess.Popen(command)  # noqa: S603 (our own command line)
                    started[number] = time.monotonic()
            stop.wait(0.5)
        for child in children:
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            if child is not None:
                child.wait()
        self.stdout.write("outbox relay: all relay processes stopped")
