"""Settings for the test run: the real settings module, with what a test run needs set.

PostgreSQL is used when DATABASE_URL is set or a server answers at 127.0.0.1:5432, Redis
when REDIS_URL is set or a server answers at 127.0.0.1:6379 (each xdist worker gets its
own Redis database). Under CI=true a missing PostgreSQL is an error, never a fallback.

Several checkouts share one machine's servers, so nothing here is a fixed name: the default
database is `tranche_<folder>_<hash of the checkout's path>` (pytest-django prefixes `test_`
and suffixes the xdist worker), and every cache and channel-layer key carries that
namespace and the worker, so clearing the cache between tests deletes this run's keys only
and never flushes a database another checkout (or another worker) is using.
`TEST_NAMESPACE` chooses the namespace instead.
"""

import hashlib
import os
import re
import secrets
import socket
from pathlib import Path


def checkout_namespace(checkout: Path) -> str:
    """`<folder>_<6 hex digits of the path>`: stable for one checkout, distinct for two
    (even two folders of the same name), and a valid PostgreSQL and Redis name."""
    folder = re.sub(r"[^a-z0-9]+", "_", checkout.name.lower()).strip("_")[:24] or "checkout"
    return f"{folder}_{hashlib.sha256(str(checkout.resolve()).encode()).hexdigest()[:6]}"


NAMESPACE = os.environ.get("TEST_NAMESPACE") or checkout_namespace(Path(__file__).resolve().parents[1])


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# Keys drawn per run (inherited by the subprocesses a test starts): start-up refuses the
# fixed, short or placeholder keys a repository could hold (config/production.py).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("JWT_SIGNING_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("DEBUG", "0")
# The adapters are the deterministic sandboxes, said explicitly as a staging deployment would.
os.environ.setdefault("SANDBOX_PROVIDERS", "1")
os.environ.setdefault("CELERY_EAGER", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("SECURE_COOKIES", "0")
# Templates name static files as they are in the apps: no collectstatic before a test run
# (tests/core/test_static_files.py runs it, and serves the hashed files, in a subprocess).
os.environ.setdefault("STATIC_HASHED", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the test client speaks plain HTTP
os.environ.setdefault("DATABASE_POOL_MAX", "40")  # race tests run dozens of threads
# Encryption at rest (core/crypto.py): fixed test-only keys; DEBUG is off, so they must be set.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "0Ah9B8-adaICXVdTx6j8Vqz7Nmfvx1S9FTPYdLSWtx4=")
os.environ.setdefault("BLIND_INDEX_KEY", secrets.token_urlsafe(64))

# TEST_DATABASE=sqlite runs the suite on the embedded default (SQLite, no Redis: what
# `make run` uses) whatever servers answer; .ci/run does both runs.
EMBEDDED = os.environ.get("TEST_DATABASE", "") == "sqlite"
if EMBEDDED:
    os.environ["DATABASE_URL"] = os.environ["REDIS_URL"] = ""
if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/tranche_{NAMESPACE}"
if (os.environ.get("CI", "").lower() == "true" and not EMBEDDED
        and not os.environ.get("DATABASE_URL", "").startswith("postgres")):
    raise RuntimeError("CI=true but no PostgreSQL: tests must run on PostgreSQL in CI (TEST_DATABASE=sqlite "
                       "is the deliberate embedded-default run).")

_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_worker_number = int(_worker[2:]) if _worker[2:].isdigit() else 0
if "REDIS_URL" not in os.environ and _answers("127.0.0.1", 6379):
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/1"
if os.environ.get("REDIS_URL") and _worker_number:
    # One Redis database per xdist worker, so clearing the cache never touches another's.
    base, _, database = os.environ["REDIS_URL"].rpartition("/")
    os.environ["REDIS_URL"] = f"{base}/{int(database or 0) + _worker_number}"

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# This run's keys only (tests/conftest.py clears by this prefix, never the whole database).
CACHE_KEY_PREFIX = f"test_{NAMESPACE}_{_worker}"
if REDIS_URL:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = CACHE_KEY_PREFIX  # noqa: F405
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"asgi_{NAMESPACE}_{_worker}"  # noqa: F405
MEDIA_ROOT = BASE_DIR / "var" / "test-media" / _worker  # noqa: F405
