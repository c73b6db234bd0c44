"""Static files in production: the Procfile's `release` collects them (hashed, compressed) and
the `web` process (gunicorn, DEBUG off) serves them through WhiteNoise, so the admin is
styled and Swagger UI and ReDoc load their assets from this server alone.

Runs the real processes in a subprocess on a SQLite file of its own; nothing is mocked.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from bench.chaos.stack import procfile_command

ROOT = Path(settings.BASE_DIR)
PORTS = range(8830, 8835)
ASSET = re.compile(r"""(?:href|src)=["'](/static/[^"']+)["']""")
HASHED = re.compile(r"\.[0-9a-f]{12}\.(?:css|js)$")


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {PORTS}")


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update({
        "PATH": f"{ROOT}/.venv/bin:" + os.environ["PATH"],
        "DEBUG": "0",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SECRET_KEY": secrets.token_urlsafe(64),  # start-up refuses short or placeholder keys
        "JWT_SIGNING_KEY": secrets.token_urlsafe(64),
        "PAYMENT_SANDBOX_WEBHOOK_SECRET": "static-files-test-payments",
        "PAYOUT_SANDBOX_WEBHOOK_SECRET": "static-files-test-payouts",
        "SANDBOX_PROVIDERS": "1",
        "WEB_CONCURRENCY": "1",
    })
    env.pop("STATIC_HASHED", None)  # the production default (hashed), not the test run's override
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """`release` then `web`, as a deployment runs them; yields the server's base URL."""
    tmp_path = tmp_path_factory.mktemp("static")
    env = _production_env(tmp_path)
    release = subprocess.run([str(ROOT / "bin" / "procfile"), "release"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=240)
    assert release.returncode == 0, release.stderr[-2000:]
    port = _free_port()
    env["PORT"] = str(port)
    log = (tmp_path / "web.log").open("w")
    process = subprocess.Popen(procfile_command("web", env), cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("gunicorn did not start:\n" + (tmp_path / "web.log").read_text()[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
        shutil.rmtree(tmp_path, ignore_errors=True)


def _assets(base: str, page: str) -> list[str]:
    response = httpx.get(base + page, timeout=30)
    assert response.status_code == 200, (page, response.status_code)
    return ASSET.findall(response.text)


def test_release_collects_hashed_compressed_files(web, tmp_path_factory):
    manifest = next(Path(tmp_path_factory.getbasetemp()).glob("static*/static/staticfiles.json"))
    css = next(manifest.parent.glob("admin/css/base.*.css"))
    assert HASHED.search(css.name)
    assert css.with_name(css.name + ".gz").exists()


def test_the_admin_is_styled_without_debug(web):
    stylesheets = [path for path in _assets(web, "/admin/login/") if path.endswith(".css")]
    assert any("/admin/css/base." in path for path in stylesheets), stylesheets
    for path in stylesheets:
        response = httpx.get(web + path, headers={"Accept-Encoding": "gzip"}, timeout=10)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/css")
        assert HASHED.search(path), f"{path} is not a hashed name"
        assert response.headers.get("content-encoding") == "gzip"
        assert "immutable" in response.headers["cache-control"]


@pytest.mark.parametrize("page, asset", [("/api/docs/", "swagger-ui-bundle"), ("/api/redoc/", "redoc.standalone")])
def test_api_docs_load_their_assets_from_this_server(web, page, asset):
    assets = _assets(web, page)
    assert any(asset in path for path in assets), assets
    for path in assets:
        response = httpx.get(web + path, timeout=10)
        assert response.status_code == 200, path
        assert response.content and not response.headers["content-type"].startswith("text/html"), path


def test_the_container_health_check_asks_under_an_allowed_host(web):
    port = web.rsplit(":", 1)[1]
    check = [str(ROOT / "bin" / "healthcheck"), port]
    env = {**os.environ, "ALLOWED_HOSTS": "localhost,127.0.0.1"}
    assert subprocess.run(check, env=env, capture_output=True, timeout=30).returncode == 0
    refused = subprocess.run(check, env={**os.environ, "ALLOWED_HOSTS": "api.example.com"}, capture_output=True,
                             text=True, timeout=30)
    assert refused.returncode == 1  # it asked as api.example.com, which this server does not allow
    assert subprocess.run([str(ROOT / "bin" / "healthcheck"), "1"], capture_output=True, timeout=30).returncode == 1
