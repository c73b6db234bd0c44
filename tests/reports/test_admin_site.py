"""The Django admin side: the dashboard and state-changing actions through the services."""

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.enums import Role
from core.audit import AuditEvent
from tests.accounts.factories import UserFactory
from tests.reports.factories import staff
from trading.enums import ListingStatus

pytestmark = pytest.mark.django_db


def admin_site_client(user) -> Client:
    """Signed in to the Django admin with a verified TOTP device (what OTPAdminSite needs)."""
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_dashboard_shows_both_charts_to_admins_only():
    admin = staff(Role.ADMIN, is_superuser=True)
    client = admin_site_client(admin)
    index = client.get("/admin/")
    assert b"/admin/dashboard/" in index.content
    page = client.get("/admin/dashboard/")
    assert page.status_code == 200
    assert page.content.count(b'<img src="/admin/dashboard/charts/') == 2
    chart = client.get("/admin/dashboard/charts/trading-activity.png")
    assert (chart.status_code, chart["Content-Type"]) == (200, "image/png")
    assert client.get("/admin/dashboard/charts/onboarding.png").content.startswith(b"\x89PNG")

    verifier = admin_site_client(staff(Role.VERIFIER))
    assert verifier.get("/admin/dashboard/").status_code == 403
    assert Client().get("/admin/dashboard/").status_code == 302  # to the admin's login


def test_dashboard_shows_how_far_event_delivery_is_behind(settings):
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from core.outbox import OutboxMessage, outbox_publish

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.OUTBOX_READY_MAX_LAG_SECONDS = 30
    with transaction.atomic():
        for listing_id in (1, 2, 3):
            outbox_publish(topic="listing.changed", payload={"listing_id": listing_id})
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(seconds=75))
    page = admin_site_client(staff(Role.ADMIN, is_superuser=True)).get("/admin/dashboard/")
    text = page.content.decode()
    start = text.index('<table id="outbox-lag"')
    lag = text[start:text.index("</table>", start)]
    assert "<th scope=\"row\">Waiting for delivery</th><td>3</td>" in lag
    assert "<td>75." in lag and "(readiness fails beyond 30 s)" in lag


def test_admin_deactivate_action_goes_through_the_service():
    admin = staff(Role.ADMIN, is_superuser=True)
    user = UserFactory()
    client = admin_site_client(admin)
    response = client.post("/admin/accounts/user/", {"action": "deactivate_selected", "_selected_action": [user.pk]})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active is False
    assert AuditEvent.objects.filter(action="user.updated", actor=admin, target_id=str(user.pk)).exists()


def test_admin_cancels_a_listing_through_the_service(assert_books_clean):
    from tests.trading.factories import make_offering, post_primary

    offering = make_offering()
    listing = post_primary(offering, units=100)
    admin = staff(Role.ADMIN, is_superuser=True)
    client = admin_site_client(admin)
    response = client.post("/admin/trading/listing/", {"action": "cancel_selected", "_selected_action": [listing.pk]})
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.status == ListingStatus.CANCELLED
    assert AuditEvent.objects.filter(action="listing.cancelled", actor=admin).exists()
    assert_books_clean()


@pytest.mark.parametrize("path", [
    "/admin/trading/trade/", "/admin/trading/holding/", "/admin/trading/unittransfer/", "/admin/trading/listing/",
    "/admin/trading/offering/", "/admin/trading/offering/add/", "/admin/reports/reportexport/",
    "/admin/core/auditevent/", "/admin/servicing/distribution/", "/admin/servicing/distributionline/",
    "/admin/tax/tdsdeduction/", "/admin/tax/taxrule/", "/admin/tax/taxdeclaration/",
])
def test_admin_pages_render(path):
    client = admin_site_client(staff(Role.SUPER_ADMIN, is_superuser=True))
    assert client.get(path).status_code == 200


def test_money_and_unit_tables_are_read_only_in_the_admin():
    client = admin_site_client(staff(Role.SUPER_ADMIN, is_superuser=True))
    for path in ("/admin/trading/trade/add/", "/admin/trading/holding/add/", "/admin/core/auditevent/add/",
                 "/admin/wallet/transfer/add/"):
        assert client.get(path).status_code in (403, 404), path
