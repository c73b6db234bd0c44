"""Schemathesis against the app's own OpenAPI schema, in-process (WSGI), on PostgreSQL.

Every operation of the schema is fuzzed twice: as an authenticated investor (verified KYC,
a funded wallet, holdings) and as an admin, in a small seeded demo world (so generated ids
often hit real rows). Checks: no 5xx, every response conforms to the schema (body, status
code, content type, headers). Deterministic (`derandomize=True`); `FUZZ_EXAMPLES` examples
per operation and user (default 12: 112 operations × 2 users × 12 ≈ 2,700 requests, well
over the 1,000 the issue asks for, in about a minute and a half here; 40 ran clean too).
Exclusions live in `EXCLUDED`, each with its reason. All findings of a run are reported
together.
"""

import io
import os
from collections import Counter

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from tests.conftest import requires_postgres

pytestmark = [pytest.mark.fuzz, requires_postgres, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
MINIMUM_REQUESTS = 1000
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.response_schema_conformance,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
]
# "METHOD /path": why it is not fuzzed. Empty: every operation is (an entry needs a reason).
EXCLUDED: dict[str, str] = {}


def _schema():
    from django.core.wsgi import get_wsgi_application

    from tools.postman import openapi_schema

    schema = schemathesis.openapi.from_dict(openapi_schema())
    schema.app = get_wsgi_application()
    return schema


def _operations(schema):
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if label not in EXCLUDED:
            yield label, operation


def _world():
    """A small demo world; returns the investor and admin the run signs in as."""
    from accounts.enums import Role
    from accounts.models import User

    call_command("seed_demo_data", "--force", "--no-progress", "--investors", "4", "--offerings", "2",
                 stdout=io.StringIO())
    investor = User.objects.get(phone="+919100000001")
    admin = User.objects.get(role=Role.ADMIN)
    return investor, admin


def _fuzz_operation(operation, label: str, headers: dict, counter: Counter, statuses: Counter) -> None:
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], print_blob=False, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        counter[label] += 1
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        statuses[(label, response.status_code // 100)] += 1

    run()


def _fuzz(schema, user, counter: Counter, findings: list, statuses: Counter) -> None:
    from accounts.services import token_for_user

    headers = {"Authorization": f"Bearer {token_for_user(user).access_token}"}
    for label, operation in _operations(schema):
        try:
            _fuzz_operation(operation, label, headers, counter, statuses)
        except (Exception, BaseExceptionGroup) as exc:  # every finding is reported at the end
            findings.append(f"[{user.role}] {label}: {str(exc)[:1500]}")


def test_every_operation_survives_fuzzing_as_investor_and_admin():
    schema = _schema()
    investor, admin = _world()
    counter: Counter = Counter()
    statuses: Counter = Counter()
    findings: list[str] = []
    for user in (investor, admin):
        _fuzz(schema, user, counter, findings, statuses)
    operations = sum(1 for _ in _operations(schema))
    succeeded = {label for (label, family) in statuses if family == 2}
    families: Counter = Counter()
    for (_label, family), count in statuses.items():
        families[f"{family}xx"] += count
    print(f"schemathesis: {sum(counter.values())} requests, {len(counter)} operations, "
          f"{len(succeeded)} answered 2xx at least once; by status: {dict(sorted(families.items()))}")
    assert len(counter) == operations, "some operation was never called"
    assert not findings, f"{len(findings)} findings:\n\n" + "\n\n".join(findings)
    assert sum(counter.values()) >= MINIMUM_REQUESTS
    # Random ids and bodies mostly meet 4xx; a quarter of the operations must still succeed.
    assert len(succeeded) >= operations // 4, "too few operations ever succeeded: the fuzzing only hit errors"
