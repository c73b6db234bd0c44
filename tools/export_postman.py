"""Write the Postman v2.1 collection and environment generated from the OpenAPI schema
(tools/postman.py) to `docs/postman/`: `python -m tools.export_postman` (`make postman`).
`--check` writes nothing and exits 1 if the committed files are not current.

Developer tooling, not part of the running product: nothing under an app imports `tools`.
"""

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from tools import postman

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(postman.OUTPUT_DIR), help="Directory to write to.")
    parser.add_argument("--check", action="store_true", help="Exit 1 if the files there are not current.")
    options = parser.parse_args(argv)
    directory = Path(options.output)
    expected = {postman.COLLECTION_FILE: postman.render(postman.build_collection()),
                postman.ENVIRONMENT_FILE: postman.render(postman.build_environment())}
    if options.check:
        stale = [name for name, text in expected.items()
                 if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text]
        if stale:
            print(f"Out of date: {', '.join(stale)}. Run `make postman`.", file=sys.stderr)
            return 1
        print("docs/postman is current.")
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in expected.items():
        (directory / name).write_text(text, encoding="utf-8")
        print(f"wrote {directory / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
