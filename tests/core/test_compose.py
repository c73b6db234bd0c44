"""docker-compose.yml and the Dockerfile, read as a deployment reads them (no Docker engine
runs here): one image built once; `migrate` (the Procfile's release) completes before any
app process starts, after healthy PostgreSQL and Redis; the Procfile's commands; a shared
media volume; restart policies and health checks; no secret with a default, and the
environment compose gives the app is enough for the production settings to start.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("web", "ws", "worker", "beat", "outbox")
SECRETS = ("SECRET_KEY", "JWT_SIGNING_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY",
           "PAYMENT_SANDBOX_WEBHOOK_SECRET", "PAYOUT_SANDBOX_WEBHOOK_SECRET", "POSTGRES_PASSWORD")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|_KEY(S)?$|TOKEN")
VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[?-])([^}]*))?\}")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _interpolate(value, env: dict[str, str]):
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` (the forms this file uses)."""
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def expand(match):
        name, operator, argument = match.groups()
        if env.get(name):
            return env[name]
        if operator and operator.endswith("?"):
            raise LookupError(name)
        return argument if operator else ""

    return VARIABLE.sub(expand, value)


def _environment(service: dict) -> dict:
    return service.get("environment") or {}


def test_one_image_built_once_for_every_app_process():
    services = _compose()["services"]
    app = ("migrate", *APP_SERVICES)
    assert len({services[name]["image"] for name in app}) == 1
    assert [name for name in services if "build" in services[name]] == ["migrate"]
    assert all(services[name]["pull_policy"] == "never" for name in APP_SERVICES)


def test_app_processes_start_after_migrate_completes_and_the_databases_are_healthy():
    services = _compose()["services"]
    for name in APP_SERVICES:
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }, name
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"


def test_each_service_runs_its_procfile_line():
    procfile = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["bin/procfile", "release"]
    for name in APP_SERVICES:
        assert services[name]["command"] == ["bin/procfile", name]
        assert name in procfile
    assert "collectstatic" in procfile["release"] and "migrate" in procfile["release"]


def test_media_is_one_volume_shared_by_every_app_process():
    compose = _compose()
    for name in ("migrate", *APP_SERVICES):
        service = compose["services"][name]
        assert "media:/app/media" in service["volumes"], name
        assert _environment(service)["MEDIA_ROOT"] == "/app/media"
    assert "media" in compose["volumes"]


def test_restart_policies_and_health_checks():
    services = _compose()["services"]
    for name in ("postgres", "redis", *APP_SERVICES):
        assert services[name]["restart"] == "unless-stopped", name
    for name in ("postgres", "redis", "web", "ws", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert services["web"]["healthcheck"]["test"] == ["CMD", "bin/healthcheck", "8000"]
    assert services["ws"]["healthcheck"]["test"] == ["CMD", "bin/healthcheck", "8001"]


def test_no_secret_has_a_default():
    services = _compose()["services"]
    for name, service in services.items():
        for key, value in _environment(service).items():
            if key in SECRETS:
                assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", value), (name, key, value)
            elif SECRET_NAME.search(key) and value is not None:
                assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", str(value)), (name, key, value)
        for key in ("SECRET_KEY", "JWT_SIGNING_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"):
            if name in APP_SERVICES:
                assert key in _environment(service), (name, key)


def test_compose_stops_on_each_missing_secret():
    compose = _compose()
    full = {name: f"value-of-{name.lower()}" for name in SECRETS}
    _interpolate(compose, full)  # nothing missing: no error
    for name in SECRETS:
        with pytest.raises(LookupError) as missing:
            _interpolate(compose, {key: value for key, value in full.items() if key != name})
        assert missing.value.args == (name,)


def test_the_environment_compose_gives_is_enough_for_the_production_settings(tmp_path):
    from cryptography.fernet import Fernet

    shell = {name: secrets.token_urlsafe(64) for name in SECRETS}  # start-up refuses placeholders
    shell["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    web = _interpolate(_compose()["services"]["web"], shell)
    environment = {key: str(value) for key, value in _environment(web).items() if value is not None}
    environment["PATH"] = os.environ["PATH"]
    environment["MEDIA_ROOT"] = str(tmp_path)
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup(); "
            "from django.conf import settings as s; "
            "print(s.DEBUG, s.STATIC_HASHED, s.DATABASES['default']['HOST'], s.STORAGES['default']['BACKEND'])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["False", "True", "postgres", "django.core.files.storage.FileSystemStorage"]


def test_the_image_collects_static_files_and_runs_the_procfile():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^RUN .*STATIC_HASHED=1 python manage.py collectstatic --noinput$", dockerfile, re.MULTILINE)
    assert 'CMD ["bin/procfile", "web"]' in dockerfile
    assert re.search(r"^USER \w+$", dockerfile, re.MULTILINE)  # not root
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for local in (".env", ".venv", "db.sqlite3*", "media/", ".git"):
        assert local in ignored


def test_bin_procfile_refuses_an_unknown_process_type(tmp_path):
    environment = {**os.environ, "PATH": f"{ROOT}/.venv/bin:" + os.environ["PATH"]}
    unknown = subprocess.run([str(ROOT / "bin" / "procfile"), "nonesuch"], cwd=tmp_path, env=environment,
                             capture_output=True, text=True, timeout=30)
    assert unknown.returncode == 64
    assert "no process type 'nonesuch'" in unknown.stderr


@pytest.mark.skipif(not (shutil.which("docker-compose") or shutil.which("docker")),
                    reason="no compose client on this machine to validate the file with")
def test_a_compose_client_accepts_the_file():
    shell = {**os.environ, **{name: "x" for name in SECRETS}}
    command = ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"]
    result = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            env=shell, capture_output=True, text=True, timeout=60)
    if "unknown command" in result.stderr or "is not a docker command" in result.stderr:
        pytest.skip("this docker client has no compose plugin")
    assert result.returncode == 0, result.stderr
