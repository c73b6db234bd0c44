from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/otp/", api.OtpRequestApi.as_view(), name="auth-otp"),
    path("auth/otp/verify/", api.OtpVerifyApi.as_view(), name="auth-otp-verify"),
    path("auth/token/refresh/", api.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", api.LogoutApi.as_view(), name="auth-logout"),
    path("me/", api.MeApi.as_view(), name="me"),
    path("me/activity/", api.MeActivityApi.as_view(), name="me-activity"),
    path("admin/users/<id:user_id>/", api.AdminUserDetailApi.as_view(), name="admin-user-detail"),
    path("admin/impersonations/", api.ImpersonationApi.as_view(), name="admin-impersonations"),
]
