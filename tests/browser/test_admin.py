"""A staff admin in the real Django admin: TOTP login, approving a KYC from the queue with
the admin action, and the dashboard's charts."""

import base64
import re
from datetime import date

import pytest
from django_otp.oath import TOTP

from accounts.enums import Role
from accounts.services import staff_create
from kyc import services as kyc_services
from kyc.enums import KYCKind, KYCStatus
from kyc.models import KYCProfile
from tests.accounts.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-password-1"


def _totp(secret: str) -> str:
    return f"{TOTP(base64.b32decode(secret + '=' * (-len(secret) % 8))).token():06d}"


@pytest.fixture
def admin_user():
    return staff_create(phone="+919000000101", role=Role.ADMIN, name="Browser Admin", password=PASSWORD)


@pytest.fixture
def profile_in_review():
    user = UserFactory(name="Asha Queue")
    profile = kyc_services.kyc_submit(user=user, kind=KYCKind.INDIVIDUAL, full_name="Asha Queue", pan="ABCPQ8888K",
                                      date_of_birth=date(1990, 1, 1), address="1 MG Road, Bengaluru 560001")
    kyc_services.kyc_verify(profile_id=profile.pk)  # the sandbox sends PAN digits 8888 to manual review
    profile.refresh_from_db()
    assert profile.status == KYCStatus.MANUAL_REVIEW
    return profile


def _log_in(page, admin_user) -> None:
    """The staff login form (accounts/admin_login.py): phone, password and a fresh TOTP code at
    once."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("input[name=username]", admin_user.user.phone)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=otp_token]", _totp(admin_user.totp_secret))
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*/admin/$"))


def test_admin_needs_the_totp_code(admin_user, page):
    page.goto("/admin/login/")
    page.fill("input[name=username]", admin_user.user.phone)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=otp_token]", f"{(int(_totp(admin_user.totp_secret)) + 1) % 10**6:06d}")
    page.click("input[type=submit]")
    assert "/admin/login/" in page.url
    assert "Enter a correct phone number, password and authenticator code" in page.locator(".errornote").inner_text()
    page.goto("/admin/")
    assert "/admin/login/" in page.url  # still not signed in


def test_admin_logs_in_with_totp_and_approves_a_kyc_from_the_queue(admin_user, profile_in_review, page):
    _log_in(page, admin_user)
    assert page.locator("#site-name").inner_text() == "Tranche administration"

    page.goto("/admin/kyc/kycprofile/?status__exact=manual_review")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    rows.first.locator("input.action-select").check()
    page.select_option("select[name=action]", "approve_selected")
    page.click("button[name=index]")
    assert page.locator("ul.messagelist li.success").inner_text() == "1 KYC profile(s) updated."

    profile_in_review.refresh_from_db()
    assert profile_in_review.status == KYCStatus.VERIFIED
    assert profile_in_review.reviewed_by == admin_user.user
    assert not KYCProfile.objects.filter(status=KYCStatus.MANUAL_REVIEW).exists()


def test_admin_sees_the_dashboard_charts(admin_user, page):
    _log_in(page, admin_user)
    page.click("a[href='/admin/dashboard/']")
    page.wait_for_url(re.compile(r".*/admin/dashboard/$"))
    charts = page.locator("img[src*='/admin/dashboard/charts/']")
    assert charts.count() == 2
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chart.element_handle())
        response = page.request.get(chart.get_attribute("src"))
        assert response.status == 200
        assert response.headers["content-type"] == "image/png"
        assert response.body()[:8] == b"\x89PNG\r\n\x1a\n"
