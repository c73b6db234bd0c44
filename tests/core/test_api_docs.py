"""The documentation endpoints: the schema is generated once per process and served from
memory after that; `/` points a visitor at the docs, the admin and the health checks."""

import json
import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from core.docs import SchemaView


@pytest.fixture
def fresh_schema_cache():
    SchemaView.forget()
    yield
    SchemaView.forget()


@pytest.fixture
def generations(monkeypatch):
    calls = []
    original = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    return calls


def test_the_schema_is_generated_once_and_then_served_from_memory(client, fresh_schema_cache, generations):
    first = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    second = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert first.status_code == second.status_code == 200
    assert len(generations) == 1
    assert second.content == first.content
    assert second["Content-Type"].startswith("application/vnd.oai.openapi+json")


def test_each_format_is_kept_and_equals_a_fresh_generation(client, fresh_schema_cache, generations):
    yaml_answer = client.get("/api/schema/")
    json_answer = client.get("/api/schema/?format=json")
    again = client.get("/api/schema/")
    assert yaml_answer.status_code == json_answer.status_code == again.status_code == 200
    assert yaml_answer["Content-Type"].startswith("application/vnd.oai.openapi")
    assert again.content == yaml_answer.content
    assert 'filename="Tranche API.yaml"' in yaml_answer["Content-Disposition"]
    fresh = SchemaGenerator().get_schema(request=None, public=True)
    assert json.loads(json_answer.content) == json.loads(json.dumps(fresh))


def test_redoc_page_links_no_outside_font(client):
    page = client.get("/api/redoc/").content.decode()
    assert "redoc.standalone" in page
    assert re.findall(r"""(?:href|src)=["']https?://[^"']+""", page) == []


@pytest.mark.django_db
def test_the_root_page_points_at_the_docs_the_admin_and_the_health_check(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', response.content.decode())
    for expected in ("/api/docs/", "/api/redoc/", "/admin/", "/healthz"):
        assert expected in links
    for link in links:
        assert client.get(link).status_code in (200, 302), link  # the admin redirects to its login
