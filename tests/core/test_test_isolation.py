"""`make test` in several checkouts on one machine: each has its own database and its own
Redis keys, and clearing the cache between tests never flushes anyone else's."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from tests.conftest import cache_clear_own_keys
from tests.settings import checkout_namespace


def test_each_checkout_gets_its_own_stable_namespace(tmp_path):
    first, second = tmp_path / "a" / "tranche", tmp_path / "b" / "tranche"
    assert checkout_namespace(first) == checkout_namespace(first)
    assert checkout_namespace(first) != checkout_namespace(second)  # same folder name, other path
    odd = checkout_namespace(tmp_path / "My Checkout (copy)")
    assert odd.startswith("my_checkout_copy_") and odd.replace("_", "").isalnum() and len(odd) <= 31


def test_the_default_database_name_comes_from_the_checkout():
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "TEST_NAMESPACE", "TEST_DATABASE")}
    code = "import tests.settings as s; print(s.DATABASES['default']['NAME'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    name = result.stdout.strip().splitlines()[-1]
    if name.endswith("sqlite3"):
        pytest.skip("no PostgreSQL answering here: the run uses SQLite")
    assert name == f"tranche_{checkout_namespace(Path(settings.BASE_DIR))}"


@pytest.mark.skipif(not settings.REDIS_URL, reason="Redis only: local memory is per process")
def test_clearing_the_cache_leaves_other_checkouts_keys_alone():
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    other = "test_someone_elses_checkout_gw0:1:throttle"
    redis.set(other, "theirs", ex=60)
    cache.set("throttle", "ours", 60)
    try:
        cache_clear_own_keys()
        assert cache.get("throttle") is None
        assert redis.get(other) == b"theirs"
    finally:
        redis.delete(other)


@pytest.mark.skipif(not settings.REDIS_URL, reason="Redis only")
def test_this_runs_cache_and_channel_keys_carry_the_checkout_and_worker():
    namespace = checkout_namespace(Path(settings.BASE_DIR))
    if "TEST_NAMESPACE" in os.environ:
        namespace = os.environ["TEST_NAMESPACE"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    assert settings.CACHES["default"]["KEY_PREFIX"] == f"test_{namespace}_{worker}"
    assert settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] == f"asgi_{namespace}_{worker}"
