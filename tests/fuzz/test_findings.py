"""Regression tests for what schemathesis found (each was a 500 or a response outside the
schema); the fix is in the owning app, the test stays here with the fuzzing."""

import pytest

from notifications.models import NotificationPreference

pytestmark = pytest.mark.django_db


def test_marketplace_refuses_a_tenor_beyond_a_century(investor_client):
    response = investor_client.get("/api/v1/marketplace/?max_tenor_days=36685844526")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "max_tenor_days"


def test_preferences_refuse_the_same_pair_twice(investor_client, investor):
    twice = {"channel": "sms", "kind": "kyc_rejected", "enabled": False}
    response = investor_client.put("/api/v1/notifications/preferences/", {"preferences": [twice, twice]},
                                   format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "duplicate"
    assert not NotificationPreference.objects.filter(user=investor).exists()


@pytest.mark.parametrize("file_format", ["pdf", "csv"])
def test_tax_statement_errors_are_json_whatever_the_format(investor_client, file_format):
    response = investor_client.get(f"/api/v1/reports/tax-statement/?format={file_format}&fy=")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["attr"] == "fy"
