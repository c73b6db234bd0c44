"""CI runs the suite on both databases: PostgreSQL and Redis, then the embedded default
(SQLite, no Redis). Under CI a missing PostgreSQL fails the PostgreSQL run; the SQLite run
is chosen explicitly (TEST_DATABASE=sqlite), never fallen back to."""

import os
import re
import subprocess
import sys

from django.conf import settings

CI_RUN = (settings.BASE_DIR / ".ci" / "run").read_text()


def _test_settings(**environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE", "DJANGO_SETTINGS_MODULE")}
    env.update(environment)
    code = "import tests.settings as s; print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'])"
    return subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=60)


def test_ci_runs_the_suite_on_postgresql_and_then_on_sqlite():
    runs = re.findall(r"^([^#\n]*)\bmake test\b", CI_RUN, re.MULTILINE)
    assert [prefix.strip() for prefix in runs] == ["", "TEST_DATABASE=sqlite"]


def test_the_sqlite_run_is_the_embedded_default_even_where_servers_answer():
    result = _test_settings(CI="true", TEST_DATABASE="sqlite", DATABASE_URL="postgres://postgres@127.0.0.1/x",
                            REDIS_URL="redis://127.0.0.1:6379/7")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["django.db.backends.sqlite3", "django.core.cache.backends.locmem.LocMemCache"]


def test_under_ci_a_missing_postgresql_fails_the_run():
    result = _test_settings(CI="true", DATABASE_URL="")
    assert result.returncode != 0
    assert "CI=true but no PostgreSQL" in result.stderr
