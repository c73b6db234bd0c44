"""Start-up stays light: `django.setup()` (every manage.py command, every worker) imports none
of the heavy libraries the app uses only in some requests. Each costs 0.1–0.5 s at every
start; docs/benchmarks.md ("Command start-up") has the measured figures."""

import os
import subprocess
import sys

from django.conf import settings

HEAVY = ("numpy", "scipy", "pandas", "matplotlib", "reportlab", "openpyxl", "httpx", "rich", "boto3", "qrcode")

PROGRAM = f"""
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
print(sorted(name for name in {HEAVY!r} if name in sys.modules))
"""


def _loaded_at_setup(**environment: str) -> list[str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(environment)
    result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=settings.BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return eval(result.stdout.strip().splitlines()[-1])  # noqa: S307 (a list of names this test printed)


def test_setup_imports_no_heavy_library_in_production():
    assert _loaded_at_setup(DEBUG="0") == []


def test_setup_imports_no_heavy_library_on_the_embedded_default():
    env = {"DEBUG": "1", "DATABASE_URL": "", "REDIS_URL": ""}
    assert _loaded_at_setup(**env) == []
