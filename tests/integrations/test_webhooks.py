import pytest

from integrations.webhooks import WebhookInvalid, require_fresh

NOW = 1_800_000_000


@pytest.fixture(autouse=True)
def tolerance(settings):
    settings.WEBHOOK_TOLERANCE_SECONDS = 300


@pytest.mark.parametrize("offset", [-300, -1, 0, 1, 300])
def test_a_timestamp_inside_the_window_is_accepted(offset):
    assert require_fresh(str(NOW + offset), now=NOW) == NOW + offset


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_a_timestamp_outside_the_window_is_stale(offset):
    with pytest.raises(WebhookInvalid) as refused:
        require_fresh(str(NOW + offset), now=NOW)
    assert refused.value.reason == "stale"


def test_a_fraction_of_a_second_past_the_window_is_stale():
    with pytest.raises(WebhookInvalid) as refused:
        require_fresh(str(NOW), now=NOW + 300.001)
    assert refused.value.reason == "stale"


@pytest.mark.parametrize("timestamp", [None, "", "soon", "12.5"])
def test_a_missing_or_malformed_timestamp_is_refused(timestamp):
    with pytest.raises(WebhookInvalid) as refused:
        require_fresh(timestamp, now=NOW)
    assert refused.value.reason == "malformed"
