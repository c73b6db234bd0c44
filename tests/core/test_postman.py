"""docs/postman/: the committed collection is the one the schema generates today, it is a
Postman v2.1 collection, and its sign-in requests work against the real API."""

import json
import re

import pytest
from rest_framework.test import APIClient

from tests.accounts.test_otp_sign_in import last_code
from tests.accounts.test_staff_sign_in import staff, totp_now  # noqa: F401 (fixture)
from tools import postman


@pytest.fixture(scope="module")
def collection() -> dict:
    return postman.build_collection()


def test_committed_files_are_current(collection):
    for name, data in ((postman.COLLECTION_FILE, collection), (postman.ENVIRONMENT_FILE, postman.build_environment())):
        committed = (postman.OUTPUT_DIR / name).read_text(encoding="utf-8")
        assert committed == postman.render(data), f"docs/postman/{name} is out of date: run `make postman`."


def _requests(collection: dict) -> list[dict]:
    return [item["request"] for folder in collection["item"] for item in folder["item"]]


def test_collection_is_postman_v2_1_with_every_operation(collection):
    assert collection["info"]["schema"] == "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    assert collection["auth"] == {"type": "bearer",
                                  "bearer": [{"key": "token", "value": "{{access}}", "type": "string"}]}
    document = postman.openapi_schema()
    operations = sum(1 for item in document["paths"].values() for method in postman.METHODS if method in item)
    requests = _requests(collection)
    assert len(requests) == operations + len(collection["item"][0]["item"])
    for request in requests:
        assert request["method"] in {"GET", "POST", "PUT", "PATCH", "DELETE"}
        assert request["url"]["raw"].startswith("{{baseUrl}}/api/v1/")
        if request.get("body", {}).get("mode") == "raw":
            json.loads(request["body"]["raw"])  # every example body is JSON
    buy = next(r for r in requests if r["url"]["raw"] == "{{baseUrl}}/api/v1/listings/:listing_id/buy/")
    assert {"key": "Idempotency-Key", "value": "{{$guid}}"}.items() <= buy["header"][-1].items()
    assert json.loads(buy["body"]["raw"]) == {"units": 1}


def _substitute(text: str, variables: dict) -> str:
    return re.sub(r"\{\{(\w+)\}\}", lambda m: variables[m.group(1)], text)


def _run(client: APIClient, request: dict, variables: dict):
    path = "/" + "/".join(request["url"]["path"])
    body = json.loads(_substitute(request["body"]["raw"], variables)) if "body" in request else None
    auth = request.get("auth", {"type": "bearer"})
    headers = {} if auth["type"] == "noauth" else {"HTTP_AUTHORIZATION": f"Bearer {variables['access']}"}
    return client.generic(request["method"], path, json.dumps(body) if body is not None else "",
                          content_type="application/json", **headers)


def _store_tokens(item: dict, response, variables: dict) -> None:
    """What the item's test script does (`pm.collectionVariables.set(...)`)."""
    script = "\n".join(item["event"][0]["script"]["exec"])
    for name in re.findall(r"pm\.collectionVariables\.set\('(\w+)', body\.(\w+)\)", script):
        variables[name[0]] = response.json()[name[1]]


def _sign_in(collection, variables, *, request_name: str, verify_name: str) -> None:
    client = APIClient()
    items = {item["name"]: item for item in collection["item"][0]["item"]}
    assert _run(client, items[request_name]["request"], variables).status_code == 202
    variables["otp"] = last_code(variables["phone"] if "staff" not in request_name.lower()
                                 else variables["staffPhone"])
    if callable(variables.get("totp")):
        variables["totp"] = variables["totp"]()
    response = _run(client, items[verify_name]["request"], variables)
    assert response.status_code == 200, response.content
    _store_tokens(items[verify_name], response, variables)


def _me(collection) -> dict:
    return next(r for r in _requests(collection)
                if r["method"] == "GET" and r["url"]["raw"] == "{{baseUrl}}/api/v1/me/")


@pytest.mark.django_db
def test_the_sign_in_folder_stores_a_working_token(collection):
    environment = {v["key"]: v["value"] for v in postman.build_environment()["values"]}
    variables = {**environment, "access": "", "refresh": ""}
    _sign_in(collection, variables, request_name="1. Request an OTP", verify_name="2. Verify the OTP (investor)")
    assert variables["access"] and variables["refresh"]
    me = _run(APIClient(), _me(collection), variables)
    assert me.status_code == 200
    assert me.json()["phone"] == environment["phone"]


@pytest.mark.django_db
def test_the_staff_sign_in_sends_the_totp_code(collection, staff):  # noqa: F811
    variables = {"staffPhone": staff["phone"], "access": "", "refresh": "",
                 "totp": lambda: totp_now(staff["totp_secret"])}
    _sign_in(collection, variables, request_name="Staff: request an OTP", verify_name="Staff: verify the OTP with TOTP")
    me = _run(APIClient(), _me(collection), variables)
    assert me.status_code == 200 and me.json()["role"] == "verifier"
