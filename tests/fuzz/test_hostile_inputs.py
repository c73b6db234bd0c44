"""Schemathesis with an attacker's inputs (issue 21, item 6), on every operation of the schema.

Schemathesis draws one valid request per operation (positive mode, derandomized, in the same
seeded world and as the same two users as `test_schemathesis.py`); then each of its inputs in
turn is replaced by a hostile value, and the request is sent again:

- every body property: a lone surrogate, a NUL character, huge numbers (as JSON numbers and
  as the largest money string), and a value nested deeper than the parser allows;
- the whole JSON body: nesting a hundred thousand levels deep, and an integer literal of
  five thousand digits;
- every query parameter: a NUL character and numbers past any column (and an undeclared
  parameter with a NUL, so even an operation without inputs meets one);
- every path parameter: a number past any key (an integer) or a NUL character (a string).

Every answer must be below 500, and every error must be in API.md's shape (a JSON object
with `type` and a non-empty `errors` list of `{code, detail, attr}`). All findings of a run
are reported together. `FUZZ_HOSTILE_EXAMPLES` valid requests per operation and user are
mutated (default 1).
"""

import copy
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core import NotSet
from schemathesis.generation import GenerationMode

from tests.conftest import requires_postgres
from tests.fuzz.test_schemathesis import _operations, _schema, _world

pytestmark = [pytest.mark.fuzz, requires_postgres, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("FUZZ_HOSTILE_EXAMPLES", "1"))


def _nested(depth: int):
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


SURROGATE = "\ud800"
PROPERTY_VALUES = {
    "lone surrogate": SURROGATE,
    "surrogate pair reversed": "x\udfff\ud800",
    "NUL": "a\x00b",
    "huge integer": 10**30,
    "huge negative integer": -(10**30),
    "huge float": 1e308,
    "largest money": "9999999999999999.99",
    "nested 64 deep": _nested(64),
}
RAW_BODIES = {
    "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    "integer of 5000 digits": b'{"amount": ' + b"9" * 5000 + b"}",
}
QUERY_VALUES = {"NUL": "\x00", "NUL inside": "pending\x00", "40 digits": "9" * 40, "huge exponent": "-1e999"}
INTEGER_PATH_VALUE = 10**30
STRING_PATH_VALUE = "a\x00b"
ERROR_TYPES = {"validation_error", "client_error", "server_error"}


def error_shape_problem(response) -> str | None:
    """Why an error response is not in API.md's shape, or None."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.headers.get('Content-Type')} {response.content[:120]!r}"
    if not isinstance(body, dict) or body.get("type") not in ERROR_TYPES:
        return f"no error type: {str(body)[:200]}"
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors:
        return f"no errors list: {str(body)[:200]}"
    for error in errors:
        if not (isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("detail"), str)
                and "attr" in error and (error["attr"] is None or isinstance(error["attr"], str))):
            return f"malformed error: {str(error)[:200]}"
    return None


def _variants(case):
    """(label, case) for every hostile replacement of one input of `case`."""
    for name, definition in ((p.name, p.definition) for p in case.operation.path_parameters):
        hostile = INTEGER_PATH_VALUE if (definition.get("schema") or {}).get("type") == "integer" else STRING_PATH_VALUE
        yield f"path {name}={hostile!r}", _with(case, path_parameters={**(case.path_parameters or {}), name: hostile})
    # A parameter no view reads still passes the request's limits.
    yield "undeclared query parameter with NUL", _with(case, query={**(case.query or {}), "x\x00": "\x00"})
    for name in (p.name for p in case.operation.query):
        for label, value in QUERY_VALUES.items():
            yield f"query {name} {label}", _with(case, query={**(case.query or {}), name: value})
    if isinstance(case.body, dict):
        for name in list(case.body) or ["unknown"]:
            for label, value in PROPERTY_VALUES.items():
                if case.media_type != "application/json":
                    if not isinstance(value, str):
                        continue  # a form field is text; numbers and nesting are JSON's
                    # A form is bytes: a surrogate arrives as the bytes that would encode it.
                    value = value.encode("utf-8", "surrogatepass")
                yield f"body {name} {label}", _with(case, body={**case.body, name: value})
    if any(body.media_type == "application/json" for body in case.operation.body):
        for label, raw in RAW_BODIES.items():
            yield f"body {label}", _with(case, body=raw, media_type="application/json")


def _with(case, **changes):
    fields = {"path_parameters": case.path_parameters, "query": case.query, "media_type": case.media_type}
    if not isinstance(case.body, NotSet):
        fields["body"] = copy.deepcopy(case.body)
    fields.update(changes)
    return case.operation.Case(**fields)


def _fuzz_operation(operation, label: str, headers: dict, findings: list, counter: Counter) -> None:
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              print_blob=False, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def run(case):
        for variant_label, variant in _variants(case):
            counter[label] += 1
            try:
                response = variant.call(headers=headers)
            except Exception as exc:  # the client could not even send it: a finding of the suite, not the app
                findings.append(f"{label} [{variant_label}]: could not send: {type(exc).__name__}: {exc}"[:400])
                continue
            if response.status_code >= 500:
                findings.append(f"{label} [{variant_label}]: {response.status_code} {response.content[:200]!r}")
            elif problem := error_shape_problem(response):
                findings.append(f"{label} [{variant_label}]: {response.status_code} {problem}")

    run()


def test_hostile_inputs_on_every_operation_give_no_5xx_and_the_error_shape():
    schema = _schema()
    investor, admin = _world()
    from accounts.services import token_for_user

    counter: Counter = Counter()
    findings: list[str] = []
    for user in (investor, admin):
        headers = {"Authorization": f"Bearer {token_for_user(user).access_token}"}
        for label, operation in _operations(schema):
            _fuzz_operation(operation, f"[{user.role}] {label}", headers, findings, counter)
    operations = sum(1 for _ in _operations(schema))
    print(f"hostile inputs: {sum(counter.values())} requests over {len(counter)} operation×user pairs")
    assert len(counter) == 2 * operations, "some operation was never called"
    assert not findings, f"{len(findings)} findings:\n" + "\n".join(findings)
