"""Browser tests: real headless Chromium (Debian's `chromium` package) driven by Playwright
for Python through `executable_path` — never `playwright install`, which downloads a browser.

Without Chromium the tests skip with the reason, except under CI=true, where they fail:
`.ci/run` installs it, so a missing browser there is a broken CI, not a reason to skip.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def _chromium_missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture
def page(live_server, settings, monkeypatch):
    """A fresh Chromium page; the live server's URL is `page.base_url` (and SITE_URL)."""
    missing = _chromium_missing()
    if missing is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {missing}: .ci/run must install it.", pytrace=False)
        pytest.skip(f"browser test skipped: {missing}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code, so Django's async-safety guard must not refuse them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.SITE_URL = live_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.base_url = live_server.url
        try:
            yield page
        finally:
            # With the loop running, Django's connections live in a context-local store, so
            # the test's ORM calls checked out a pooled connection of their own: return it
            # here, in that context, or it outlives the pool and the test database's drop.
            from django.db import connections

            connections.close_all()
            context.close()
            browser.close()
