from django.urls import path

from notifications.consumers import MarketplaceConsumer, NotificationConsumer
from notifications.ws_auth import JwtAuthMiddleware

websocket_urlpatterns = [
    path("ws/notifications/", JwtAuthMiddleware(NotificationConsumer.as_asgi())),
    path("ws/marketplace/", MarketplaceConsumer.as_asgi()),
]
