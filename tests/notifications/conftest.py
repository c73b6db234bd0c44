import pytest
from django.db import transaction

from core.outbox import outbox_publish


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings):
    """Most tests use the in-memory layer; the channels-redis test overrides this."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def publish(topic: str, payload: dict) -> None:
    """Publish as the owning app does: inside a transaction; eager mode drains after commit."""
    with transaction.atomic():
        outbox_publish(topic=topic, payload=payload)
