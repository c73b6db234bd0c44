"""What an operator sees from the everyday commands: `run_periodic` prints one readable line
per job (and no broker warning on the embedded default), `--list` shows schedules;
`import_primary` with the local provider says there is nothing to import; long commands
show progress (a bar on a terminal, plain lines otherwise)."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from core.progress import Progress

ROOT = Path(django_settings.BASE_DIR)
JOB_LINE = re.compile(r"^(?P<job>[\w-]+)\s+ok\s+\d+\.\d\d s(?:\s+.*)?$")


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """`manage.py` on the embedded default (SQLite, no Redis, eager Celery), as `make run` has it."""
    directory = tmp_path_factory.mktemp("embedded")
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_EAGER", "LOG_LEVEL", "DJANGO_SETTINGS_MODULE")}
    env.update({"DEBUG": "1", "SQLITE_PATH": str(directory / "db.sqlite3"), "MEDIA_ROOT": str(directory / "media")})

    def manage(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)

    migrated = manage("migrate", "--noinput", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    return manage


def test_run_periodic_all_prints_one_line_per_job_and_nothing_else(embedded):
    result = embedded("run_periodic", "--all")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [JOB_LINE.match(line)["job"] for line in lines] == sorted(django_settings.CELERY_BEAT_SCHEDULE)
    assert result.stderr == ""  # no JSON log lines between them, no broker warning
    assert re.search(r"^wallet-reconcile-nightly\s+ok .* clean$", result.stdout, re.MULTILINE)


def test_a_task_sent_on_the_embedded_default_gives_no_broker_warning(embedded):
    code = ("import django; django.setup(); from core.tasks import idempotency_purge_task as task; "
            "print(task.delay().get())")
    result = embedded("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert "No hostname was supplied" not in result.stderr


def test_import_primary_with_the_local_provider_says_there_is_nothing_to_import(embedded):
    result = embedded("import_primary")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Nothing to import: PRIMARY_PROVIDER is 'local'")


def test_run_periodic_list_shows_each_jobs_schedule():
    out = io.StringIO()
    call_command("run_periodic", "--list", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Times are Asia/Kolkata; beat runs these in production."
    shown = {line.split()[0]: line for line in lines[1:]}
    assert set(shown) == set(django_settings.CELERY_BEAT_SCHEDULE)
    assert re.search(r"\s+every 5 s\s+core\.tasks\.outbox_drain_task$", shown["outbox-drain"])
    assert re.search(r"\s+every 1 h\s+", shown["idempotency-purge"])
    assert re.search(r"\s+every 5 min\s+", shown["notification-delivery-sweep"])
    assert re.search(r"\s+daily at 02:30\s+wallet\.tasks\.reconcile_task$", shown["wallet-reconcile-nightly"])


@pytest.mark.django_db
def test_a_failing_job_is_reported_and_the_others_still_run(monkeypatch):
    from celery import current_app
    from django.core.management.base import CommandError

    current_app.loader.import_default_modules()
    task = current_app.tasks["core.tasks.idempotency_purge_task"]

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(task, "run", broken)
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 of 1 job\(s\) failed: idempotency-purge"):
        call_command("run_periodic", "idempotency-purge", stdout=out)
    assert re.match(r"^idempotency-purge\s+FAILED\s+\d+\.\d\d s  RuntimeError: disk full$", out.getvalue().strip())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_plain_lines_off_a_terminal():
    stream = io.StringIO()
    with Progress(total=40, description="re-encrypting", stream=stream) as progress:
        for _ in range(40):
            progress.update()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "re-encrypting: 4/40 rows (10%)"
    assert lines[-1] == "re-encrypting: 40/40 rows (100%)"
    assert len(lines) == 10  # one per tenth, not one per row
    assert "\r" not in stream.getvalue()


def test_progress_is_a_moving_bar_on_a_terminal():
    stream = _Terminal()
    with Progress(total=40, description="re-encrypting", stream=stream) as progress:
        for _ in range(40):
            progress.update()
    drawn = stream.getvalue()
    assert "\r" in drawn and "re-encrypting:" in drawn
    assert re.search(r"\d+/40", drawn)


@pytest.mark.django_db
def test_rotate_encryption_keys_reports_its_progress():
    from tests.kyc.factories import KYCProfileFactory

    for _ in range(3):
        KYCProfileFactory()
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "2", stdout=out, stderr=err)
    progress = err.getvalue().splitlines()
    assert progress and progress[-1].startswith("re-encrypting: ")
    done, total = map(int, re.match(r"re-encrypting: (\d+)/(\d+) rows \(100%\)$", progress[-1]).groups())
    assert done == total >= 3
