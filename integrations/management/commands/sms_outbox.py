"""Prints the text messages the console SMS sandbox recorded, newest first: how a developer
reads a sign-in code under `make run` (no adapter writes a code to the log)."""

from django.core.management.base import BaseCommand, CommandError

from integrations.models import OutboundMessage
from integrations.registry import sandbox_services


class Command(BaseCommand):
    help = "Show the newest text messages the console SMS sandbox recorded."

    def add_arguments(self, parser):
        parser.add_argument("--to", help="Only messages to this phone number (E.164, e.g. +919876500001).")
        parser.add_argument("--last", type=int, default=5, help="How many (default 5).")

    def handle(self, *args, **options):
        if "sms" not in sandbox_services():
            raise CommandError("The console SMS sandbox is not in use: real messages are recorded masked.")
        messages = OutboundMessage.objects.filter(channel="sms")
        if options["to"]:
            messages = messages.filter(to=options["to"])
        for message in messages.order_by("-id")[: options["last"]]:
            self.stdout.write(f"{message.created_at:%H:%M:%S} {message.to}: {message.body}")
