"""The Django admin's sign-in: phone, password and authenticator code on one form, one generic
error until all three pass, and throttling with lockout per IP and per account, audited.

django-otp's form checked the password first and, when it was right, asked to "select a
device": an oracle for the password. Here nothing differs between a wrong phone, a wrong
password and a wrong code; and a deactivated or non-staff account fails the same way.

Throttling (settings `ADMIN_LOGIN_*`): failures are counted in the cache per client IP (the
same `client_ip` as everywhere, `NUM_PROXIES`) and per account (the phone typed), over a
window of `ADMIN_LOGIN_LOCKOUT_SECONDS`. At `ADMIN_LOGIN_MAX_FAILURES_PER_IP` failures the
IP is locked out, at `ADMIN_LOGIN_MAX_FAILURES_PER_ACCOUNT` the account, until the window
passes; while locked, no password is even checked. A success clears the account's count.
Every failure, lockout and success writes an `AuditEvent` (`admin.login_failed`,
`admin.login_locked`, `admin.login`).
"""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.core.cache import cache
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.phone import normalize_phone
from core.audit import audit_record
from core.errors import DomainError
from core.middleware import client_ip

GENERIC_ERROR = "Enter a correct phone number, password and authenticator code. All three are case-sensitive."
LOCKED_ERROR = "Too many failed sign-ins. Try again in {minutes} minutes."


def _account_key(phone: str) -> str:
    try:
        return normalize_phone(phone)
    except DomainError:
        return (phone or "").strip().lower()[:32]


def _keys(*, ip: str | None, account: str) -> tuple[str, str]:
    return f"admin-login:ip:{ip or 'unknown'}", f"admin-login:account:{account}"


def admin_login_locked(*, ip: str | None, account: str) -> bool:
    ip_key, account_key = _keys(ip=ip, account=account)
    failures = cache.get_many([ip_key, account_key])
    return (failures.get(ip_key, 0) >= settings.ADMIN_LOGIN_MAX_FAILURES_PER_IP
            or failures.get(account_key, 0) >= settings.ADMIN_LOGIN_MAX_FAILURES_PER_ACCOUNT)


def admin_login_failed(*, ip: str | None, account: str) -> None:
    for key in _keys(ip=ip, account=account):
        # add() starts the window; incr() counts within it (atomic on Redis).
        cache.add(key, 0, timeout=settings.ADMIN_LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, timeout=settings.ADMIN_LOGIN_LOCKOUT_SECONDS)
    audit_record(action="admin.login_failed", data={"phone": account, "ip": ip})


def admin_login_succeeded(*, user, ip: str | None, account: str) -> None:
    cache.delete(_keys(ip=ip, account=account)[1])
    audit_record(action="admin.login", actor=user, target=user, data={"ip": ip})


def _verified_device(user, token: str):
    for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            return device
    return None


class StaffLoginForm(AdminAuthenticationForm):
    otp_token = forms.CharField(label="Authenticator code", max_length=6, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))

    error_messages = {**AdminAuthenticationForm.error_messages, "invalid_login": GENERIC_ERROR,
                      "inactive": GENERIC_ERROR}

    def clean(self):
        phone = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password") or ""
        token = (self.cleaned_data.get("otp_token") or "").strip()
        ip = client_ip(self.request) if self.request is not None else None
        account = _account_key(phone)
        if admin_login_locked(ip=ip, account=account):
            audit_record(action="admin.login_locked", data={"phone": account, "ip": ip})
            minutes = max(1, settings.ADMIN_LOGIN_LOCKOUT_SECONDS // 60)
            raise forms.ValidationError(LOCKED_ERROR.format(minutes=minutes), code="locked")
        user = authenticate(self.request, username=phone, password=password) if phone and password else None
        device = None
        if user is not None and user.is_active and user.is_staff and token.isascii() and token.isdigit():
            device = _verified_device(user, token)
        if device is None:
            admin_login_failed(ip=ip, account=account)
            raise forms.ValidationError(GENERIC_ERROR, code="invalid_login")
        user.otp_device = device  # django-otp marks the session verified at login
        self.user_cache = user
        admin_login_succeeded(user=user, ip=ip, account=account)
        return self.cleaned_data


class TrancheAdminSite(OTPAdminSite):
    """django-otp's site (every admin page needs a verified session), with the form above."""

    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"
