"""Swagger UI and ReDoc load nothing from outside this server (no CDN, no web fonts, no
validator badge): every request that leaves the browser goes to the server that served the
page. (ReDoc's bundle asks for a logo on Redocly's CDN; the page's CSP stops it in the
browser, which is what this checks: a route sees every request that would reach a network.)"""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("path, ready", [("/api/redoc/", ".api-info h1"), ("/api/docs/", ".swagger-ui .opblock")])
def test_the_api_docs_fetch_only_from_this_server(page, path, ready):
    sent = []

    def record(route):
        sent.append(route.request.url)
        route.continue_()

    page.route("**/*", record)
    page.goto(path)
    # ReDoc lays out all ~110 operations before its header shows: slow on a loaded host.
    page.wait_for_selector(ready, timeout=90_000)
    page.wait_for_load_state("networkidle", timeout=90_000)
    assert any("/api/schema/" in url for url in sent)
    assert [url for url in sent if not url.startswith(page.base_url + "/")] == []
