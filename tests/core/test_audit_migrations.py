"""The audit table is written by every money movement, so its indexes are built without
holding those writes back (core migration 0003)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import requires_postgres


@requires_postgres
@pytest.mark.django_db(transaction=True)  # CREATE INDEX CONCURRENTLY cannot run in a transaction
def test_the_partial_impersonator_index_is_built_concurrently_outside_a_transaction():
    planned = io.StringIO()
    call_command("sqlmigrate", "core", "0003", stdout=planned)
    sql = planned.getvalue()
    assert 'CREATE INDEX CONCURRENTLY "audit_impersonated_idx"' in sql
    assert "BEGIN;" not in sql  # not atomic: each statement commits on its own

    call_command("migrate", "core", "0002", verbosity=0)
    try:
        assert "audit_impersonated_idx" not in _indexes()
    finally:
        call_command("migrate", verbosity=0)  # every app: rolling core back may unapply its dependents
    assert "audit_impersonated_idx" in _indexes()


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'core_auditevent'")
        return {name for (name,) in cursor.fetchall()}
