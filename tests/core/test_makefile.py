"""The Makefile's wiring: `make run PORT=…` serves on that port with SITE_URL in step, and
`make test` runs pytest in parallel unless told otherwise. The programs make would start are
stand-ins that print what they were given, so nothing is installed or served."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
STAND_IN = '#!/bin/sh\necho "$(basename "$0") $* SITE_URL=$SITE_URL"\n'

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def stand_ins(tmp_path):
    for program in ("python", "uvicorn"):
        path = tmp_path / program
        path.write_text(STAND_IN)
        path.chmod(0o755)
    return tmp_path


def make(stand_ins: Path, *arguments: str, **environment: str) -> list[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("SITE_URL", "PORT", "MAKEFLAGS")}
    env.update(environment)
    result = subprocess.run(["make", "--no-print-directory", "-o", "install", "-o", "install-dev",
                             f"BIN={stand_ins}", *arguments], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith(("python ", "uvicorn "))]


def test_make_run_serves_on_port_and_keeps_site_url_in_step(stand_ins):
    ran = make(stand_ins, "run", "PORT=8123")
    assert ran[-1] == ("uvicorn config.asgi:application --host 127.0.0.1 --port 8123 --reload "
                       "SITE_URL=http://127.0.0.1:8123")
    assert all(line.endswith("SITE_URL=http://127.0.0.1:8123") for line in ran)  # migrate and seed too


def test_make_run_defaults_to_8000(stand_ins):
    assert make(stand_ins, "run")[-1].endswith("--port 8000 --reload SITE_URL=http://127.0.0.1:8000")


def test_an_explicit_site_url_wins(stand_ins):
    ran = make(stand_ins, "run", "PORT=8123", SITE_URL="https://demo.example")
    assert ran[-1].endswith("--port 8123 --reload SITE_URL=https://demo.example")


def test_make_test_is_parallel_by_default_and_can_be_serial(stand_ins):
    assert make(stand_ins, "test")[-1].startswith("python -m pytest -n auto ")
    assert make(stand_ins, "test", "TEST_WORKERS=0", "PYTEST_ARGS=tests/core")[-1].startswith(
        "python -m pytest -n 0 tests/core")
