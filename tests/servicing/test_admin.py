"""Servicing's actions on trading's offering page in the Django admin: servicing adds them
(trading's admin never imports servicing), and they go through the same services."""

import pytest
from django.utils import timezone

from accounts.enums import Role
from servicing.models import Distribution
from tests.reports.factories import staff
from tests.reports.test_admin_site import admin_site_client
from trading.enums import OfferingStatus

from .factories import big_offering, holders

pytestmark = pytest.mark.django_db


def test_the_offering_page_records_a_repayment_and_marks_a_default(django_capture_on_commit_callbacks,
                                                                    assert_books_clean):
    offering = big_offering()
    holders(offering, [10, 20])
    admin = staff(Role.ADMIN, is_superuser=True)
    admin.organization_memberships.create(organization=offering.organization, role="admin")
    client = admin_site_client(admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/trading/offering/", {
            "action": "record_repayment", "_selected_action": [offering.pk], "apply": "1",
            "amount": "1000.00", "received_on": timezone.localdate().isoformat(), "reference": "ADMIN-UTR-1"})
    assert response.status_code == 302
    distribution = Distribution.objects.get(offering=offering, reference="ADMIN-UTR-1")
    assert distribution.created_by == admin

    response = client.post("/admin/trading/offering/", {
        "action": "mark_default", "_selected_action": [offering.pk], "apply": "1", "reason": "Obligor insolvent"})
    assert response.status_code == 302
    offering.refresh_from_db()
    assert (offering.status, offering.status_reason) == (OfferingStatus.DEFAULTED, "Obligor insolvent")
    assert_books_clean()
