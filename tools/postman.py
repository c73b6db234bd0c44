"""A Postman v2.1 collection generated from the OpenAPI schema (drf-spectacular's generator).

`python -m tools.export_postman` writes `docs/postman/tranche.postman_collection.json` and
`tranche.postman_environment.json`; a test regenerates both and compares them with the
committed files, so the collection never drifts from the code.

Shape: a "Sign in" folder first (request an OTP → verify it; the verify request's test script
stores `access` and `refresh` in collection variables; a staff variant sends the TOTP code
too), then one folder per OpenAPI tag with one request per operation. The collection
authenticates every request with `Bearer {{access}}` unless the operation is public. Bodies
are examples built from the request schema (its own examples when it has them). Output is
deterministic: no timestamps, ids derived from operation ids, keys in schema order.
"""

import json
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NAMESPACE = uuid.UUID("6f1d3c2e-7b0a-4d8e-9f35-2c1b4a5e6d70")
OUTPUT_DIR = Path(settings.BASE_DIR) / "docs" / "postman"
COLLECTION_FILE = "tranche.postman_collection.json"
ENVIRONMENT_FILE = "tranche.postman_environment.json"
METHODS = ("get", "post", "put", "patch", "delete")

STORE_TOKENS = [
    "pm.test('signed in', function () { pm.response.to.have.status(200); });",
    "const body = pm.response.json();",
    "pm.collectionVariables.set('access', body.access);",
    "pm.collectionVariables.set('refresh', body.refresh);",
]


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def openapi_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


# Realistic values for fields the schema names without an example (valid for the sandbox).
FIELD_EXAMPLES = {
    "phone": "{{phone}}", "otp": "{{otp}}", "totp": "{{totp}}", "refresh": "{{refresh}}",
    "pan": "ABCPE1234F", "gstin": "27ABCPE1234F1Z5", "ifsc": "HDFC0001234", "account_number": "50100012345678",
    "holder_name": "Demo Investor 1", "full_name": "Demo Investor 1", "name": "Demo Investor 1",
    "address": "1 MG Road, Bengaluru 560001", "email": "investor@example.com", "reference": "UTR000000001",
    "units": 1, "min_units": 1, "total_units": 100, "listing": 1, "offering": 1, "invoice": 1, "buyer": 1,
    "bank_account": 1, "user": 1, "party": 1, "amount": "1000.00", "price_per_unit": "100.00",
    "reason": "Documents do not match", "note": "Checked against the bank statement",
}


class _Examples:
    """Example values for a schema, resolving `$ref`s against the document's components."""

    def __init__(self, document: dict):
        self.components = document.get("components", {}).get("schemas", {})

    def resolve(self, schema: dict) -> dict:
        seen = 0
        while "$ref" in schema and seen < 20:
            schema = self.components.get(schema["$ref"].rsplit("/", 1)[-1], {})
            seen += 1
        return schema

    def value(self, schema: dict, *, name: str = "", depth: int = 0) -> Any:
        schema = self.resolve(schema or {})
        if "example" in schema:
            return schema["example"]
        if name in FIELD_EXAMPLES and "enum" not in schema and schema.get("type") not in ("array", "object"):
            return FIELD_EXAMPLES[name]
        if "default" in schema:
            return schema["default"]
        if "enum" in schema:
            choices = [choice for choice in schema["enum"] if choice not in (None, "")]
            return choices[0] if choices else None
        for combined in ("allOf", "oneOf", "anyOf"):
            if schema.get(combined):
                options = [self.resolve(option) for option in schema[combined]]
                options = [option for option in options if option.get("type") != "null"] or options
                if combined == "allOf":
                    merged: dict = {}
                    for option in options:
                        value = self.value(option, name=name, depth=depth)
                        if isinstance(value, dict):
                            merged.update(value)
                        else:
                            return value
                    return merged
                return self.value(options[0], name=name, depth=depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "object" or "properties" in schema:
            if depth > 4:
                return {}
            properties = {key: prop for key, prop in schema.get("properties", {}).items()
                          if not self.resolve(prop).get("readOnly")}
            required = set(schema.get("required", ()))
            # Required fields, plus (at the top) the optional ones with a realistic example;
            # a body of optional fields only (PATCH) shows them all.
            chosen = [key for key in properties if key in required or (depth == 0 and key in FIELD_EXAMPLES)]
            if depth == 0 and not chosen:
                chosen = list(properties)
            return {key: self.value(properties[key], name=key, depth=depth + 1) for key in chosen}
        if kind == "array":
            return [self.value(schema.get("items", {}), name=name, depth=depth + 1)] if depth <= 4 else []
        if kind == "integer":
            return max(1, schema.get("minimum", 1))
        if kind == "number":
            return 1.0
        if kind == "boolean":
            return True
        return self._string(schema, name)

    @staticmethod
    def _string(schema: dict, name: str) -> str:
        fmt = schema.get("format", "")
        pattern = schema.get("pattern", "")
        if fmt == "date":
            return "2026-11-21"
        if fmt == "date-time":
            return "2026-11-21T10:00:00+05:30"
        if fmt == "uuid":
            return "00000000-0000-4000-8000-000000000000"
        if fmt == "email":
            return "investor@example.com"
        if fmt == "uri":
            return "https://example.com/"
        if fmt == "binary":
            return ""
        if "decimal" in fmt or r"\d{0,2}" in pattern or r"\.\d" in pattern or name.endswith(("amount", "price")):
            return "100.00"
        if pattern in (r"^\d{6}$", r"^[0-9]{6}$"):
            return "123456"
        return name or "string"


def _url(path: str, parameters: list[dict], examples: _Examples) -> dict:
    segments = []
    variables = []
    for segment in path.lstrip("/").split("/"):  # a trailing "" keeps Django's trailing slash
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            segments.append(f":{name}")
            variables.append({"key": name, "value": "1"})
        else:
            segments.append(segment)
    query = [
        {"key": p["name"], "value": str(examples.value(p.get("schema", {}), name=p["name"])), "disabled": True,
         "description": (p.get("description") or "")[:200]}
        for p in parameters if p.get("in") == "query"
    ]
    raw = "{{baseUrl}}/" + "/".join(segments) + ("?" + "&".join(f"{q['key']}=" for q in query) if query else "")
    url = {"raw": raw, "host": ["{{baseUrl}}"], "path": segments}
    if query:
        url["query"] = query
    if variables:
        url["variable"] = variables
    return url


def _body(operation: dict, examples: _Examples) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        example = examples.value(content["application/json"].get("schema", {}))
        return {"mode": "raw", "raw": json.dumps(example, indent=2, ensure_ascii=False),
                "options": {"raw": {"language": "json"}}}
    if "multipart/form-data" in content:
        schema = examples.resolve(content["multipart/form-data"].get("schema", {}))
        form = []
        for key, prop in schema.get("properties", {}).items():
            prop = examples.resolve(prop)
            if prop.get("format") == "binary":
                form.append({"key": key, "type": "file", "src": []})
            else:
                form.append({"key": key, "type": "text", "value": str(examples.value(prop, name=key))})
        return {"mode": "formdata", "formdata": form}
    return None


def _is_idempotent(path: str, method: str) -> bool:
    """Whether the view's handler for `method` is wrapped by `core.idempotency.idempotent`."""
    import re

    from django.urls import Resolver404, resolve

    from core import idempotency

    try:
        match = resolve(re.sub(r"\{[^}]+\}", "1", path))
    except Resolver404:
        return False
    handler = getattr(getattr(match.func, "view_class", None), method, None)
    code = getattr(handler, "__code__", None)
    return code is not None and code.co_filename == idempotency.__file__ and hasattr(handler, "__wrapped__")


def _request(method: str, path: str, operation: dict, path_parameters: list, examples: _Examples) -> dict:
    parameters = [*path_parameters, *operation.get("parameters", [])]
    request: dict = {"method": method.upper(), "header": [], "url": _url(path, parameters, examples)}
    if operation.get("security") == [] or operation.get("security") == [{}]:
        request["auth"] = {"type": "noauth"}
    body = _body(operation, examples)
    if body is not None:
        if body["mode"] == "raw":
            request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = body
    if method in ("post", "patch") and _is_idempotent(path, method):
        request["header"].append({"key": "Idempotency-Key", "value": "{{$guid}}",
                                  "description": "Same key and body replays the first response."})
    description = operation.get("description") or operation.get("summary") or ""
    if description:
        request["description"] = description
    return request


def _sign_in_folder() -> dict:
    def item(name: str, path: str, body: dict, *, script: list[str] | None = None, description: str) -> dict:
        entry = {
            "name": name,
            "request": {
                "method": "POST", "auth": {"type": "noauth"},
                "header": [{"key": "Content-Type", "value": "application/json"}],
                "url": {"raw": "{{baseUrl}}/" + path, "host": ["{{baseUrl}}"], "path": path.split("/")},
                "body": {"mode": "raw", "raw": json.dumps(body, indent=2), "options": {"raw": {"language": "json"}}},
                "description": description,
            },
        }
        if script:
            entry["event"] = [{"listen": "test", "script": {"type": "text/javascript", "exec": script}}]
        entry["id"] = _id("sign-in", name)
        return entry

    return {
        "name": "Sign in",
        "id": _id("folder", "sign-in"),
        "description": "Run these first. The verify requests store `access` and `refresh` in collection "
                       "variables; every other request sends `Authorization: Bearer {{access}}`.",
        "item": [
            item("1. Request an OTP", "api/v1/auth/otp/", {"phone": "{{phone}}"},
                 description="Sends a 6-digit code. With the console SMS adapter (`make run`) the code is "
                             "printed in the server log; put it in the `otp` variable."),
            item("2. Verify the OTP (investor)", "api/v1/auth/otp/verify/", {"phone": "{{phone}}", "otp": "{{otp}}"},
                 script=STORE_TOKENS, description="Signs in (creating the user on first success)."),
            item("Staff: request an OTP", "api/v1/auth/otp/", {"phone": "{{staffPhone}}"},
                 description="Staff sign in with an OTP and their authenticator (TOTP) code."),
            item("Staff: verify the OTP with TOTP", "api/v1/auth/otp/verify/",
                 {"phone": "{{staffPhone}}", "otp": "{{otp}}", "totp": "{{totp}}"}, script=STORE_TOKENS,
                 description="`totp` is the current code of the staff user's authenticator "
                             "(`seed_demo_data` prints each demo staff user's secret)."),
            item("Refresh the access token", "api/v1/auth/token/refresh/", {"refresh": "{{refresh}}"},
                 script=STORE_TOKENS[1:], description="Rotates the refresh token; stores both again."),
        ],
    }


def build_collection(document: dict | None = None) -> dict:
    document = document or openapi_schema()
    examples = _Examples(document)
    folders: dict[str, list] = {}
    for path, path_item in document.get("paths", {}).items():
        path_parameters = path_item.get("parameters", [])
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["api"])[0]
            name = operation.get("summary") or f"{method.upper()} {path}"
            folders.setdefault(tag, []).append({
                "name": name,
                "id": _id(operation.get("operationId", f"{method} {path}")),
                "request": _request(method, path, operation, path_parameters, examples),
                "response": [],
            })
    info = document.get("info", {})
    return {
        "info": {
            "_postman_id": _id("collection"),
            "name": info.get("title", "API"),
            "description": f"{info.get('description', '')}\n\nGenerated from the OpenAPI schema by "
                           "`python -m tools.export_postman`; do not edit by hand.",
            "schema": SCHEMA_URL,
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{access}}", "type": "string"}]},
        "variable": [
            {"key": "baseUrl", "value": "http://127.0.0.1:8000"},
            {"key": "access", "value": ""},
            {"key": "refresh", "value": ""},
        ],
        "item": [_sign_in_folder(), *[
            {"name": tag, "id": _id("folder", tag), "item": items} for tag, items in sorted(folders.items())
        ]],
    }


def build_environment() -> dict:
    def var(key: str, value: str, kind: str = "default") -> dict:
        return {"key": key, "value": value, "type": kind, "enabled": True}

    return {
        "id": _id("environment", "local"),
        "name": "Tranche local (make run)",
        "values": [
            var("baseUrl", "http://127.0.0.1:8000"),
            var("phone", "+919100000001"),
            var("otp", ""),
            var("staffPhone", "+919000000001"),
            var("totp", ""),
        ],  # no access/refresh here: an environment value would shadow the collection's variables
        "_postman_variable_scope": "environment",
    }


def render(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def export(directory: Path = OUTPUT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in ((COLLECTION_FILE, build_collection()), (ENVIRONMENT_FILE, build_environment())):
        target = directory / name
        target.write_text(render(data), encoding="utf-8")
        written.append(target)
    return written
