"""WebSocket routes. Apps add their consumers here as they arrive."""

from notifications.routing import websocket_urlpatterns as notifications_routes

websocket_urlpatterns: list = [
    *notifications_routes,
]
