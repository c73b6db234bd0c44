"""Readiness probes for /readyz: each returns None when healthy, or what is wrong.

/readyz also reports how far event delivery is behind (`core.outbox.outbox_lag`): the
backlog and the age of the oldest message not yet tried. With `OUTBOX_READY_MAX_LAG_SECONDS`
set (0, the default, turns it off) a lag beyond it fails the check. Off by default because a
load balancer that takes every web process out of rotation for a slow relay turns a delay
into an outage; turn it on where readiness pages someone or gates the relays' own deploy.
"""

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


def outbox_report() -> dict | None:
    """`outbox_lag()`, or None when it cannot be read (the database check says why)."""
    from core.outbox import outbox_lag

    try:
        return outbox_lag()
    except Exception:
        return None


def check_outbox(report: dict | None) -> str | None:
    limit = settings.OUTBOX_READY_MAX_LAG_SECONDS
    if not limit or report is None or report["oldest_pending_seconds"] <= limit:
        return None
    return f"oldest undelivered message waited {report['oldest_pending_seconds']:.0f} s (limit {limit:g} s)"


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def readiness() -> dict[str, str]:
    """Name → problem, for every dependency that is down (empty when all are up)."""
    return readiness_report()[0]


def readiness_report() -> tuple[dict[str, str], dict | None]:
    """The problems (as `readiness`, the outbox's lag check included) and the outbox report."""
    problems = {}
    for name, check in CHECKS.items():
        problem = check()
        if problem:
            problems[name] = problem
    report = outbox_report()
    problem = check_outbox(report)
    if problem:
        problems["outbox"] = problem
    return problems, report
