from django.urls import path

from notifications import api

urlpatterns = [
    path("notifications/", api.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/unread-count/", api.NotificationUnreadCountApi.as_view(), name="notification-unread-count"),
    path("notifications/read-all/", api.NotificationReadAllApi.as_view(), name="notification-read-all"),
    path("notifications/preferences/", api.NotificationPreferenceApi.as_view(), name="notification-preferences"),
    path("notifications/<id:notification_id>/read/", api.NotificationReadApi.as_view(), name="notification-read"),
]
