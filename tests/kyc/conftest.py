import pytest

from accounts.enums import Role
from core import outbox
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate

TOPICS = ("kyc.verified", "kyc.rejected", "kyc.manual_review", "bank_account.verified", "bank_account.failed")


@pytest.fixture
def events(monkeypatch):
    """Every kyc outbox event delivered, as (topic, payload), alongside the real handlers."""
    received: list[tuple[str, dict]] = []
    for topic in TOPICS:
        handlers = dict(outbox._handlers.get(topic, {}))
        handlers[f"tests.kyc.recorder.{topic}"] = lambda payload, topic=topic: received.append((topic, payload))
        monkeypatch.setitem(outbox._handlers, topic, handlers)
    return received


@pytest.fixture
def reviewer(db):
    return UserFactory(role=Role.VERIFIER, is_staff=True)


@pytest.fixture
def reviewer_client(reviewer):
    from rest_framework.test import APIClient

    return authenticate(APIClient(), reviewer)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what commits would have run (the verification task, the outbox drain)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _kyc_onboarding_provider(settings):
    """These tests check the kyc app's own onboarding provider through `GET /me/`; the wallet
    may install its own (which also checks the wallet is open) in the real settings."""
    settings.ONBOARDING_PROVIDER = "kyc.selectors.onboarding_status"
