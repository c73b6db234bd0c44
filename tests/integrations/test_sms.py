import time

import pytest
from werkzeug import Response

from integrations.errors import IntegrationError, IntegrationTimeout
from integrations.models import ApiCall, OutboundMessage
from integrations.registry import get_adapter
from integrations.sms import ConsoleSms, TextlocalSms

pytestmark = pytest.mark.django_db

API_KEY = "tl-secret-key-123"


@pytest.fixture
def textlocal(httpserver, settings):
    settings.SMS_PROVIDER = "textlocal"
    settings.TEXTLOCAL_API_URL = httpserver.url_for("/send/")
    settings.TEXTLOCAL_API_KEY = API_KEY
    return httpserver


def test_the_setting_chooses_the_adapter(settings):
    settings.SMS_PROVIDER = "console"
    assert isinstance(get_adapter("sms"), ConsoleSms)
    settings.SMS_PROVIDER = "textlocal"
    assert isinstance(get_adapter("sms"), TextlocalSms)
    settings.SMS_PROVIDER = "carrier-pigeon"
    with pytest.raises(LookupError):
        get_adapter("sms")


def test_console_sandbox_records_the_message():
    ConsoleSms().send(to="+919876543210", body="hello")
    message = OutboundMessage.objects.get()
    assert (message.to, message.body) == ("+919876543210", "hello")
    assert ApiCall.objects.get().provider == "console"


def test_textlocal_sends_the_form_and_logs_the_call(textlocal):
    textlocal.expect_oneshot_request("/send/", method="POST").respond_with_json({"status": "success"})
    get_adapter("sms").send(to="+919876543210", body="123456 is your code")
    request, _ = textlocal.log[0]
    assert request.form["numbers"] == "919876543210"
    assert request.form["message"] == "123456 is your code"
    assert request.form["apikey"] == API_KEY
    call = ApiCall.objects.get()
    assert (call.service, call.provider, call.outcome, call.http_status) == ("sms", "textlocal", "ok", 200)


def test_textlocal_refusal_is_an_error(textlocal):
    textlocal.expect_request("/send/").respond_with_json({"status": "failure", "errors": [{"code": 7}]})
    with pytest.raises(IntegrationError):
        get_adapter("sms").send(to="+919876543210", body="x")


def test_a_5xx_is_not_retried_for_a_send_and_the_key_is_redacted(textlocal):
    textlocal.expect_request("/send/").respond_with_response(Response(f"upstream broke, key={API_KEY}", status=502))
    with pytest.raises(IntegrationError) as caught:
        get_adapter("sms").send(to="+919876543210", body="x")
    assert caught.value.status == 502 and caught.value.retryable
    assert len(textlocal.log) == 1  # sending is not idempotent: no blind retry
    call = ApiCall.objects.get()
    assert call.outcome == "error" and call.http_status == 502
    assert API_KEY not in call.error and "***" in call.error


def test_a_timeout_is_reported_as_such(textlocal, settings):
    settings.INTEGRATION_TIMEOUT_SECONDS = 0.2

    def slow(request):
        time.sleep(0.6)
        return Response('{"status": "success"}', content_type="application/json")

    textlocal.expect_request("/send/").respond_with_handler(slow)
    with pytest.raises(IntegrationTimeout):
        get_adapter("sms").send(to="+919876543210", body="x")
    assert ApiCall.objects.get().outcome == "timeout"


def test_idempotent_calls_are_retried_on_5xx_then_succeed(httpserver):
    from integrations.http import HttpAdapter

    class Probe(HttpAdapter):
        service = "probe"
        provider = "local"

    httpserver.expect_ordered_request("/status").respond_with_response(Response("busy", status=503))
    httpserver.expect_ordered_request("/status").respond_with_json({"ok": True})
    response = Probe(base_url=httpserver.url_for(""), max_retries=2).request(
        "status", "GET", "/status", idempotent=True
    )
    assert response.json() == {"ok": True}
    call = ApiCall.objects.get()
    assert (call.outcome, call.attempts) == ("ok", 2)


def test_a_refused_connection_is_retried_then_reported(settings):
    from integrations.http import HttpAdapter

    class Probe(HttpAdapter):
        service = "probe"
        provider = "local"

    with pytest.raises(IntegrationError):
        Probe(base_url="http://127.0.0.1:1", max_retries=1).request("status", "GET", "/", idempotent=False)
    assert ApiCall.objects.get().attempts == 2
