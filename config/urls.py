from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerView

from accounts.admin_login import TrancheAdminSite
from core.api import ApiNotFoundView, HealthzView, ReadyzView
from core.docs import HomeView, RedocView, SchemaView
from reports.dashboard import dashboard_urls
from wallet.sandbox_access import sandbox_payment_page_enabled

# Staff sign in with phone, password and a TOTP code on one form, throttled (accounts/admin_login.py).
admin.site.__class__ = TrancheAdminSite
admin.site.site_header = "Tranche administration"
admin.site.site_title = "Tranche"
# The index links to the staff dashboard (reports/dashboard.py).
admin.site.index_template = "admin/tranche_index.html"

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("kyc.urls")),
    path("", include("notifications.urls")),
    path("", include("wallet.urls")),
    path("", include("invoices.urls")),
    path("", include("trading.urls")),
    path("", include("servicing.urls")),
    path("", include("tax.urls")),
    path("", include("bidding.urls")),
    path("", include("reports.urls")),
]

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("healthz", HealthzView.as_view(), name="healthz"),
    path("readyz", ReadyzView.as_view(), name="readyz"),
    *dashboard_urls(),
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/", include(api_v1)),
    # The payment sandbox's hosted page: routed only while the sandbox is the payment provider
    # and sandboxes are allowed (wallet.sandbox checks again on every request).
    *([path("sandbox/", include("wallet.sandbox"))] if sandbox_payment_page_enabled() else []),
    # Anything else under /api/ is a 404 in the API's error shape, not Django's HTML page.
    re_path(r"^api/", ApiNotFoundView.as_view()),
]
