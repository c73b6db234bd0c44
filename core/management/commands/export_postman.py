"""Write the Postman v2.1 collection and environment generated from the OpenAPI schema
(core/postman.py) to `docs/postman/`. `--check` writes nothing and exits 1 if the committed
files are not current."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from core import postman


class Command(BaseCommand):
    help = "Generate docs/postman/ (Postman collection + environment) from the OpenAPI schema."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(postman.OUTPUT_DIR), help="Directory to write to.")
        parser.add_argument("--check", action="store_true", help="Exit 1 if the files there are not current.")

    def handle(self, *args, output, check, **options):
        directory = Path(output)
        expected = {postman.COLLECTION_FILE: postman.render(postman.build_collection()),
                    postman.ENVIRONMENT_FILE: postman.render(postman.build_environment())}
        if check:
            stale = [name for name, text in expected.items()
                     if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text]
            if stale:
                self.stderr.write(f"Out of date: {', '.join(stale)}. Run `make postman`.")
                sys.exit(1)
            self.stdout.write("docs/postman is current.")
            return
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in expected.items():
            (directory / name).write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {directory / name}")
