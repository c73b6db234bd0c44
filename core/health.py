"""Readiness probes for /readyz: each returns None when healthy, or what is wrong."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not ready"
        return type(exc).__name__
    return None


def check_cache() -> str | None:
    try:
        cache.set("readyz", "1", timeout=5)
        if cache.get("readyz") != "1":
            return "cache did not return what was stored"
    except Exception as exc:
        return type(exc).__name__
    return None


def check_broker() -> str | None:
    if settings.CELERY_TASK_ALWAYS_EAGER or settings.CELERY_BROKER_URL.startswith("memory://"):
        return None  # eager mode: there is no broker to reach
    try:
        from celery import current_app

        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return type(exc).__name__
    return None


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def readiness() -> dict[str, str]:
    """Name → problem, for every dependency that is down (empty when all are up)."""
    problems = {}
    for name, check in CHECKS.items():
        problem = check()
        if problem:
            problems[name] = problem
    return problems
