"""Issue 21, items 1 and 2: a process with DEBUG off refuses sandbox providers (unless the
deployment says SANDBOX_PROVIDERS=1, and then every response says so) and refuses weak or
missing secrets; no secret is derived from another."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings


def production_problems(values):  # imported late, so the file also runs (and fails) before the fix
    from config.production import production_problems

    return production_problems(values)


def secret_problem(value):
    from config.production import secret_problem

    return secret_problem(value)


STRONG = "Zq3vK9pX2mL7wR4tY8uB1nC6dF5gH0jA-sE_kT2yU9iO3pQ7lM4zX8cV1bN6"  # 60 characters, no marker


def _real_providers() -> dict:
    return {
        "SMS_PROVIDER": "textlocal", "TEXTLOCAL_API_KEY": "k",
        "KYC_PROVIDER": "signzy", "SIGNZY_API_KEY": "k",
        "BANK_PROVIDER": "razorpayx", "PAYOUT_PROVIDER": "razorpayx", "RAZORPAYX_KEY_ID": "k",
        "RAZORPAYX_KEY_SECRET": "k", "RAZORPAYX_ACCOUNT_NUMBER": "k", "RAZORPAYX_WEBHOOK_SECRET": "k",
        "PAYMENT_PROVIDER": "razorpay", "RAZORPAY_KEY_ID": "k", "RAZORPAY_KEY_SECRET": "k",
        "RAZORPAY_WEBHOOK_SECRET": "k",
        "EMAIL_PROVIDER": "django", "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "PRIMARY_PROVIDER": "local",
    }


def _values(**overrides) -> dict:
    values = {"DEBUG": False, "SECRET_KEY": STRONG, "JWT_SIGNING_KEY": STRONG[::-1],
              "BLIND_INDEX_KEY": STRONG[1:] + "Q", **_real_providers()}
    values.update(overrides)
    return values


def test_a_complete_production_configuration_passes():
    assert production_problems(_values()) == []


@pytest.mark.parametrize("key", [
    "",
    "change-me-in-every-real-deployment",                          # what docker-compose.yml fell back to
    "short-but-random-9f8e7d6c5b4a",                               # < 50 characters
    "x" * 60,                                                      # long, one character
    "django-insecure-" + "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9",  # Django's startproject placeholder
    "test-only-secret-key-not-for-production-0123456789",           # what tests used to fix in the repo
])
@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SIGNING_KEY", "BLIND_INDEX_KEY"])
def test_missing_short_or_placeholder_secrets_are_refused(name, key):
    problems = production_problems(_values(**{name: key}))
    assert any(problem.startswith(name) for problem in problems), problems
    assert secret_problem(key) is not None


def test_the_jwt_key_must_be_its_own():
    assert "JWT_SIGNING_KEY must differ from SECRET_KEY." in production_problems(_values(JWT_SIGNING_KEY=STRONG))


@pytest.mark.parametrize(("setting", "sandbox"), [
    ("SMS_PROVIDER", "console"), ("KYC_PROVIDER", "sandbox"), ("BANK_PROVIDER", "sandbox"),
    ("PAYMENT_PROVIDER", "sandbox"), ("PAYOUT_PROVIDER", "sandbox"),
    ("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
])
def test_each_sandbox_is_refused_unless_the_deployment_allows_sandboxes(setting, sandbox):
    problems = production_problems(_values(**{setting: sandbox}))
    assert len(problems) == 1 and "sandbox providers are chosen" in problems[0], problems
    assert production_problems(_values(**{setting: sandbox}, SANDBOX_PROVIDERS=True)) == []


def test_a_real_provider_without_its_keys_is_refused():
    problems = production_problems(_values(RAZORPAY_WEBHOOK_SECRET=""))
    assert problems == ["RAZORPAY_WEBHOOK_SECRET (needed by PAYMENT_PROVIDER=razorpay) is not set."]


def test_sandbox_webhook_secrets_are_never_derived_from_secret_key():
    """Unset, each process draws its own: two processes never share one, and neither is a
    function of SECRET_KEY (a webhook could be forged from the repository's key)."""
    env = {**os.environ, "SECRET_KEY": STRONG}
    for name in ("PAYMENT_SANDBOX_WEBHOOK_SECRET", "PAYOUT_SANDBOX_WEBHOOK_SECRET"):
        env.pop(name, None)
    code = ("import config.settings as s; print(s.PAYMENT_SANDBOX_WEBHOOK_SECRET, s.PAYOUT_SANDBOX_WEBHOOK_SECRET, "
            "s.SIMPLE_JWT['SIGNING_KEY'])")
    runs = [_python(code, env).stdout.split() for _ in range(2)]
    assert runs[0][:2] != runs[1][:2]
    for payment, payout, jwt_key in runs:
        assert STRONG[:16] not in payment and STRONG[:16] not in payout
        assert jwt_key == os.environ["JWT_SIGNING_KEY"] != STRONG


def _python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
                          capture_output=True, text=True, timeout=60, cwd=str(settings.BASE_DIR))


def _production_env(**overrides) -> dict:
    """DEBUG off, strong keys, and every provider setting left at its default."""
    env = {key: value for key, value in os.environ.items()
           if not key.endswith("_PROVIDER") and key not in ("SANDBOX_PROVIDERS", "EMAIL_BACKEND")}
    env.update(DEBUG="0", SECRET_KEY=STRONG, JWT_SIGNING_KEY=STRONG[::-1], BLIND_INDEX_KEY=STRONG[2:] + "QR",
               DJANGO_SETTINGS_MODULE="config.settings")
    env.update(overrides)
    return env


def test_debug_off_with_default_providers_refuses_to_load_the_settings():
    result = _python("import config.settings", _production_env())
    assert result.returncode != 0
    assert "Refusing to start with DEBUG off" in result.stderr
    assert "payments=sandbox" in result.stderr and "sms=console" in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _gunicorn(env: dict, port: int) -> subprocess.Popen:
    command = [f"{settings.BASE_DIR}/.venv/bin/gunicorn", "config.wsgi", "-c", "config/gunicorn.py",
               "--workers", "1", "--bind", f"127.0.0.1:{port}"]
    return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_the_web_server_refuses_to_start_and_with_sandboxes_allowed_says_so_on_every_response():
    port = _free_port()
    refused = _gunicorn(_production_env(), port)
    try:
        output, _ = refused.communicate(timeout=60)
    finally:
        refused.kill()
    assert refused.returncode != 0
    assert "sandbox providers are chosen" in output

    port = _free_port()
    server = _gunicorn(_production_env(SANDBOX_PROVIDERS="1"), port)
    try:
        headers = None
        deadline = time.monotonic() + 60
        while headers is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    headers = response.headers
            except OSError:
                time.sleep(0.2)
        assert headers is not None, "the server never answered"
        assert "payments=sandbox" in headers["X-Sandbox-Providers"]
        assert "sms=console" in headers["X-Sandbox-Providers"]
    finally:
        server.terminate()
        server.wait(timeout=30)
