"""Swagger UI (served offline from drf-spectacular-sidecar) loads and renders the schema."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_loads_the_schema(page):
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    with page.expect_response(lambda response: "/api/schema/" in response.url) as schema_response:
        page.goto("/api/docs/")
    assert schema_response.value.status == 200
    page.wait_for_selector(".swagger-ui .info .title")
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Tranche API")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() > 50  # every operation rendered
    assert page.locator(".opblock-summary-path[data-path='/api/v1/listings/{listing_id}/buy/']").count() == 1
    assert failed == []  # no asset from a CDN: everything is served locally
