"""What a process refuses to start with when `DEBUG` is off.

`config/settings.py` calls `refuse_unsafe_settings(globals())` last, so gunicorn, uvicorn,
Celery and every `manage.py` command refuse in the same way, before serving anything, with
one message that lists every problem:

- a secret that is missing, shorter than `MIN_SECRET_LENGTH` characters, made of too few
  distinct characters, or a placeholder (`change-me`, `insecure`, `test-only` …): such a key
  is in a repository or a guide somewhere, so anyone could sign a session or a token with it;
- a JWT signing key equal to `SECRET_KEY` (each secret has one job, so one leak is one leak);
- a sandbox or console adapter (`integrations.registry.SANDBOXES`), unless the deployment
  says so with `SANDBOX_PROVIDERS=1` (demos, staging, load tests);
- a real provider without the settings it needs (`integrations.registry.REQUIRED_SETTINGS`).

With `DEBUG` on nothing is refused: that is local development.
"""

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

MIN_SECRET_LENGTH = 50
MIN_DISTINCT_CHARACTERS = 10
# Lower-case fragments of the keys that guides, examples and this repository's own tests use.
PLACEHOLDER_MARKERS = (
    "change-me", "changeme", "change_me", "replace-me", "placeholder", "insecure", "example", "your-secret",
    "secret-key", "secret_key", "not-for-production", "test-only", "bench-only", "dummy", "default", "xxxxx",
    "django-insecure",
)
# The signing secrets held to the rules above (FIELD_ENCRYPTION_KEYS are Fernet keys, checked
# as such by core.crypto).
SECRETS = ("SECRET_KEY", "JWT_SIGNING_KEY", "BLIND_INDEX_KEY")


def secret_problem(value: str) -> str | None:
    """Why `value` is not a usable secret, or None."""
    if not value:
        return "is not set"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"has fewer than {MIN_DISTINCT_CHARACTERS} distinct characters"
    lowered = value.lower()
    for marker in PLACEHOLDER_MARKERS:
        if marker in lowered:
            return f"looks like a placeholder (contains {marker!r})"
    return None


def production_problems(values: Mapping) -> list[str]:
    """Every reason the settings in `values` are unfit to run with `DEBUG` off."""
    from integrations.registry import missing_provider_settings, sandbox_services

    problems = []
    for name in SECRETS:
        problem = secret_problem(values.get(name) or "")
        if problem:
            problems.append(f"{name} {problem}; generate one with "
                            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`.")
    if values.get("JWT_SIGNING_KEY") and values.get("JWT_SIGNING_KEY") == values.get("SECRET_KEY"):
        problems.append("JWT_SIGNING_KEY must differ from SECRET_KEY.")
    sandboxes = sandbox_services(values)
    if sandboxes and not values.get("SANDBOX_PROVIDERS"):
        listed = ", ".join(f"{service}={provider}" for service, provider in sorted(sandboxes.items()))
        problems.append(f"sandbox providers are chosen ({listed}): configure the real providers, or set "
                        "SANDBOX_PROVIDERS=1 if this deployment is a demo, a staging or a load test.")
    problems += [f"{missing} is not set." for missing in missing_provider_settings(values)]
    return problems


def refuse_unsafe_settings(values: Mapping) -> None:
    if values.get("DEBUG"):
        return
    problems = production_problems(values)
    if problems:
        raise ImproperlyConfigured("Refusing to start with DEBUG off:\n- " + "\n- ".join(problems))
