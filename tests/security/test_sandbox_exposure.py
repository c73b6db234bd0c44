"""Issue 21, item 1: the sandboxes say so, their page exists only where they are allowed,
and no code reaches a log or a real adapter's record in clear."""

import logging
import re

import pytest
from django.test import override_settings
from django.urls import clear_url_caches

from integrations.models import OutboundMessage
from integrations.registry import get_adapter

pytestmark = pytest.mark.django_db


def test_every_response_names_the_sandboxes(api_client):
    for path in ("/healthz", "/api/v1/me/", "/api/v1/nowhere/", "/admin/login/"):
        response = api_client.get(path)
        assert "payments=sandbox" in response["X-Sandbox-Providers"], path


def test_no_header_once_every_provider_is_real(api_client, settings):
    settings.SMS_PROVIDER, settings.KYC_PROVIDER, settings.BANK_PROVIDER = "textlocal", "signzy", "razorpayx"
    settings.PAYMENT_PROVIDER, settings.PAYOUT_PROVIDER = "razorpay", "razorpayx"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert not api_client.get("/healthz").has_header("X-Sandbox-Providers")


def test_the_admin_shows_a_sandbox_banner(client):
    page = client.get("/admin/login/").content.decode()
    assert 'id="sandbox-banner"' in page and "payments=sandbox" in page


def _sandbox_routed() -> bool:
    import importlib

    import config.urls

    clear_url_caches()
    importlib.reload(config.urls)
    return any(str(pattern.pattern) == "sandbox/" for pattern in config.urls.urlpatterns)


def test_the_sandbox_payment_page_is_routed_only_where_sandboxes_are_allowed(settings):
    try:
        assert _sandbox_routed()
        with override_settings(DEBUG=False, SANDBOX_PROVIDERS=False):
            assert not _sandbox_routed()
        with override_settings(PAYMENT_PROVIDER="razorpay"):
            assert not _sandbox_routed()
    finally:
        _sandbox_routed()


def test_the_sandbox_page_answers_404_if_sandboxes_are_disallowed_at_run_time(client, settings):
    from rest_framework.test import APIClient

    from tests.conftest import authenticate
    from tests.wallet.factories import verified_investor
    from wallet.models import Deposit

    investor = verified_investor()
    started = authenticate(APIClient(), investor).post("/api/v1/wallet/deposits/",
                                                       {"amount": "9999.00", "method": "gateway"})
    path = started.json()["payment_url"].removeprefix("http://127.0.0.1:8000")
    settings.SANDBOX_PROVIDERS, settings.DEBUG = False, False
    assert client.post(path, {"action": "pay"}).status_code == 404
    assert Deposit.objects.get(pk=started.json()["id"]).status == "pending"


def test_a_sandbox_adapter_is_refused_at_run_time_when_not_allowed(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SANDBOX_PROVIDERS, settings.DEBUG = False, False
    with pytest.raises(ImproperlyConfigured):
        get_adapter("kyc")


def test_no_sign_in_code_reaches_the_log(api_client, caplog):
    with caplog.at_level(logging.DEBUG):
        assert api_client.post("/api/v1/auth/otp/", {"phone": "+919876543210"}).status_code == 202
    code = re.match(r"^(\d{6}) ", OutboundMessage.objects.get().body).group(1)  # the console sandbox keeps it
    assert code not in caplog.text


def test_a_real_sms_adapter_records_the_code_masked(api_client, httpserver, settings, caplog):
    settings.SMS_PROVIDER = "textlocal"
    settings.TEXTLOCAL_API_URL = httpserver.url_for("/send/")
    settings.TEXTLOCAL_API_KEY = "tl-key"
    httpserver.expect_request("/send/").respond_with_json({"status": "success"})
    with caplog.at_level(logging.DEBUG):
        assert api_client.post("/api/v1/auth/otp/", {"phone": "+919876543210"}).status_code == 202
    sent = httpserver.log[0][0].form["message"]
    code = re.match(r"^(\d{6}) ", sent).group(1)
    recorded = OutboundMessage.objects.get()
    assert code not in recorded.body and recorded.body.startswith("****** is your Tranche sign-in code")
    assert code not in caplog.text
