"""Sign-in by SMS OTP (plus TOTP for staff), tokens, profile and staff creation."""

import base64
import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.enums import STAFF_ROLES, OrganizationRole, Role
from accounts.errors import AccountDisabled, OtpExpired, OtpInvalid, OtpLocked, SmsFailed, TotpInvalid, TotpRequired
from accounts.models import OtpChallenge, User
from accounts.phone import normalize_phone
from accounts.tenancy import organization_get_by_slug, organization_membership_ensure, platform_organization
from core.audit import audit_record
from core.errors import RateLimited
from integrations.errors import IntegrationError
from integrations.registry import get_adapter

logger = logging.getLogger(__name__)


def _hash_code(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _lock_phone(phone: str) -> None:
    """Serialise sign-in work for one phone across processes (PostgreSQL advisory lock,
    released at commit). SQLite's IMMEDIATE transactions already serialise writers."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(phone.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


@dataclass(frozen=True)
class OtpSent:
    expires_in: int
    resend_in: int


def _failure_keys(phone: str, ip: str | None) -> tuple[str, str]:
    return f"otp:failures:{phone}:{ip or '-'}", f"otp:failures:{phone}"


def _otp_locked(phone: str, ip: str | None) -> bool:
    pair_key, phone_key = _failure_keys(phone, ip)
    counts = cache.get_many([pair_key, phone_key])
    return (counts.get(pair_key, 0) >= settings.OTP_MAX_ATTEMPTS
            or counts.get(phone_key, 0) >= settings.OTP_MAX_FAILURES_PER_PHONE_PER_HOUR)


def _otp_count_failure(phone: str, ip: str | None) -> None:
    for key in _failure_keys(phone, ip):
        cache.add(key, 0, timeout=3600)  # the window starts with the first failure
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, timeout=3600)


def otp_request(*, phone: str, ip: str | None) -> OtpSent:
    """Send a new 6-digit code.

    Limits are keyed so that a stranger cannot spend the owner's: per phone and IP, one code
    per `OTP_RESEND_SECONDS` and `OTP_MAX_SENDS_PER_PHONE_PER_IP_PER_HOUR`; per IP,
    `OTP_MAX_SENDS_PER_IP_PER_HOUR`; and a ceiling per phone across all IPs,
    `OTP_MAX_SENDS_PER_PHONE_PER_HOUR`, far above what one IP may ask. A new code replaces the
    open codes asked from the same IP only, so a stranger's request never voids the owner's
    code; it also clears that pair's wrong tries."""
    phone = normalize_phone(phone)
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    code = f"{secrets.randbelow(10**settings.OTP_LENGTH):0{settings.OTP_LENGTH}d}"
    same_ip = {"ip": ip} if ip else {"ip__isnull": True}
    with transaction.atomic():
        _lock_phone(phone)
        recent = OtpChallenge.objects.filter(phone=phone, created_at__gte=hour_ago)
        from_here = recent.filter(**same_ip)
        last = from_here.order_by("-created_at").first()
        if last and (wait := settings.OTP_RESEND_SECONDS - (now - last.created_at).total_seconds()) > 0:
            raise RateLimited(f"Wait {math.ceil(wait)} s before asking for another code.", retry_after=math.ceil(wait))
        if from_here.count() >= settings.OTP_MAX_SENDS_PER_PHONE_PER_IP_PER_HOUR:
            raise RateLimited("Too many codes sent to this number. Try again in an hour.", retry_after=3600)
        if recent.count() >= settings.OTP_MAX_SENDS_PER_PHONE_PER_HOUR:
            raise RateLimited("Too many codes sent to this number. Try again in an hour.", retry_after=3600)
        if ip and OtpChallenge.objects.filter(ip=ip, created_at__gte=hour_ago).count() >= (
            settings.OTP_MAX_SENDS_PER_IP_PER_HOUR
        ):
            raise RateLimited("Too many codes requested from this address. Try again later.", retry_after=3600)
        OtpChallenge.objects.filter(phone=phone, consumed_at__isnull=True, **same_ip).update(consumed_at=now)
        OtpChallenge.objects.create(
            phone=phone,
            code_hash=_hash_code(phone, code),
            ip=ip,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
        )
    cache.delete(_failure_keys(phone, ip)[0])
    # The outside call happens after commit, never inside the transaction.
    try:
        get_adapter("sms").send(to=phone, body=f"{code} is your Tranche sign-in code. It expires in 5 minutes.",
                                redact=(code,))
    except IntegrationError as exc:
        raise SmsFailed() from exc
    return OtpSent(expires_in=settings.OTP_TTL_SECONDS, resend_in=settings.OTP_RESEND_SECONDS)


@dataclass(frozen=True)
class SignIn:
    user: User
    access: str
    refresh: str
    is_new: bool


def otp_verify(*, phone: str, otp: str, totp: str | None = None, ip: str | None = None) -> SignIn:
    """Check the code (constant-time) against every open code of the phone, whichever IP asked
    for it; on success consume them, create the user on first sign-in and issue tokens. Staff
    must also pass TOTP.

    Wrong tries (a wrong code, or a wrong TOTP) are counted per phone and IP: at
    `OTP_MAX_ATTEMPTS` that pair is locked until it asks for a new code, and a stranger's
    wrong tries never lock the owner's own. A ceiling per phone across all IPs,
    `OTP_MAX_FAILURES_PER_PHONE_PER_HOUR`, bounds guessing from many addresses (50 guesses an
    hour against a million codes)."""
    phone = normalize_phone(phone)
    now = timezone.now()
    failure: Exception | None = None
    if _otp_locked(phone, ip):
        raise OtpLocked(attr="otp")
    with transaction.atomic():
        _lock_phone(phone)
        open_challenges = list(
            OtpChallenge.objects.select_for_update()
            .filter(phone=phone, consumed_at__isnull=True, created_at__gte=now - timedelta(hours=1))
            .order_by("-created_at")
        )
        live = [challenge for challenge in open_challenges if challenge.expires_at > now]
        if not live:
            if open_challenges:
                raise OtpExpired(attr="otp")
            raise OtpInvalid(attr="otp")

        user = User.objects.filter(phone=phone).first()
        offered = _hash_code(phone, str(otp or ""))
        matched = None
        for challenge in live:  # every one compared, so the time taken says nothing
            if hmac.compare_digest(challenge.code_hash, offered) and matched is None:
                matched = challenge
        if matched is None:
            failure = OtpInvalid(attr="otp")
        elif user is not None and user.role in STAFF_ROLES:
            if not totp:
                failure = TotpRequired(attr="totp")
            elif not _totp_matches(user, totp):
                failure = TotpInvalid(attr="totp")

        if failure is not None:
            # Recorded on the codes this IP asked for, for the admin's eyes; the lock is the counter.
            OtpChallenge.objects.filter(pk__in=[c.pk for c in live if c.ip == ip]).update(attempts=F("attempts") + 1)
        else:
            OtpChallenge.objects.filter(pk__in=[c.pk for c in open_challenges]).update(consumed_at=now)
            is_new = user is None
            if is_new:
                user = User.objects.create_user(phone)
            if not user.is_active:
                raise AccountDisabled()
            User.objects.filter(pk=user.pk).update(last_login=now)
            audit_record(action="auth.sign_in", actor=user, target=user, data={"is_new": is_new})
    if failure is not None:
        _otp_count_failure(phone, ip)
        if _otp_locked(phone, ip):
            failure = OtpLocked(attr="otp")
        raise failure  # after commit, so the counted try is kept
    cache.delete(_failure_keys(phone, ip)[0])
    refresh = token_for_user(user)
    return SignIn(user=user, access=str(refresh.access_token), refresh=str(refresh), is_new=is_new)


def _totp_matches(user: User, token: str) -> bool:
    devices = TOTPDevice.objects.devices_for_user(user, confirmed=True)
    return any(device.verify_token(token) for device in devices)


def token_for_user(user: User) -> RefreshToken:
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role
    return refresh


def token_logout(*, refresh: str) -> None:
    """Blacklist a refresh token (and so every access token minted from it stops being
    renewable). Raises simplejwt's TokenError for an invalid token."""
    RefreshToken(refresh).blacklist()


def user_update_profile(*, user: User, name: str | None = None, email: str | None = None) -> User:
    fields = []
    if name is not None:
        user.name = name
        fields.append("name")
    if email is not None:
        user.email = email
        fields.append("email")
    if fields:
        user.save(update_fields=fields)
    return user


@dataclass(frozen=True)
class StaffCreated:
    user: User
    totp_secret: str
    totp_uri: str
    password: str
    action: str = "created"  # created | promoted | credentials_reset


def staff_create(*, phone: str, role: str, name: str = "", password: str | None = None,
                 totp_key: str | None = None, organization: str | None = None, promote: bool = False,
                 reset_credentials: bool = False) -> StaffCreated:
    """Create a staff user with a confirmed TOTP device. Admins and super admins get full
    Django-admin rights; other staff roles get admin access with no model rights until their
    groups are configured. `totp_key` (hex) is for demo data only; normally a random key is
    generated. The user becomes a member of `organization` (a slug; default the platform
    organization): admins and super admins as organization admins.

    An existing user is changed only when asked, since either change is drastic: a staff
    user's password and TOTP secret are replaced only with `reset_credentials` (their
    current authenticator stops working), and a user who is not staff (an investor) becomes
    staff only with `promote`. Otherwise `StaffAlreadyExists` / `UserNotStaff`, and nothing
    changes. Locks the user row."""
    from accounts.errors import StaffAlreadyExists, UserNotStaff

    if role not in STAFF_ROLES:
        raise ValueError(f"{role!r} is not a staff role; choose from {', '.join(sorted(STAFF_ROLES))}.")
    password = password or secrets.token_urlsafe(12)
    phone = normalize_phone(phone)
    with transaction.atomic():
        tenant = organization_get_by_slug(slug=organization) if organization else platform_organization()
        user = User.objects.select_for_update().filter(phone=phone).first()
        if user is None:
            user, action = User(phone=phone), "created"
        elif user.is_staff or user.role in STAFF_ROLES:
            if not reset_credentials:
                raise StaffAlreadyExists(
                    f"{phone} is already staff ({user.role}). Nothing changed. To give them a new password "
                    "and TOTP secret (their current authenticator stops working), add --reset-credentials.")
            action = "credentials_reset"
        else:
            if not promote:
                raise UserNotStaff(
                    f"{phone} is an existing {user.role} user, not staff. Nothing changed. To make them "
                    f"{role} (with admin access), add --promote.")
            action = "promoted"
        user.role = role
        user.name = name or user.name
        user.is_staff = True
        user.is_superuser = role in {Role.ADMIN, Role.SUPER_ADMIN}
        user.set_password(password)
        user.save()
        TOTPDevice.objects.filter(user=user).delete()
        device_fields = {"key": totp_key} if totp_key else {}
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=True, **device_fields)
        organization_membership_ensure(
            organization=tenant, user=user,
            role=OrganizationRole.ADMIN if role in {Role.ADMIN, Role.SUPER_ADMIN} else OrganizationRole.MEMBER,
        )
        audit_record(action="accounts.staff_created", target=user,
                     data={"role": role, "organization": tenant.slug, "action": action})
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return StaffCreated(user=user, totp_secret=secret, totp_uri=device.config_url, password=password, action=action)


# --- Staff: user management and impersonation ------------------------------------------------

def user_update_by_staff(*, actor: User, user_id: int, role: str | None = None,
                         is_active: bool | None = None) -> User:
    """Change a user's role or active flag (admins and super admins).

    Rules: nobody changes their own role or deactivates themselves; only a super admin may
    grant a staff role or change a user who already is staff (an admin manages investors).
    Deactivation takes effect at once: the user's access tokens stop working on the next
    request (simplejwt loads the user and checks `is_active`) and their refresh tokens are
    blacklisted. Audited with the before/after values. Locks the user row."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    from accounts.errors import CannotChangeOwnRole, StaffRoleChangeForbidden
    from accounts.permissions import ADMIN_ROLES
    from core.errors import NotFound, PermissionDenied
    from core.outbox import outbox_publish

    if actor.role not in ADMIN_ROLES or not actor.is_active:
        raise PermissionDenied()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound("No such user.")
        changes: dict[str, list] = {}
        if role is not None and role != user.role:
            changes["role"] = [user.role, role]
        if is_active is not None and is_active != user.is_active:
            changes["is_active"] = [user.is_active, is_active]
        if not changes:
            return user
        if user.pk == actor.pk:
            raise CannotChangeOwnRole()
        touches_staff = user.role in STAFF_ROLES or (role is not None and role in STAFF_ROLES)
        if touches_staff and actor.role != Role.SUPER_ADMIN:
            raise StaffRoleChangeForbidden()
        fields = []
        if "role" in changes:
            user.role = role
            # Same Django-admin rights as `staff_create`; a new staff user still needs an
            # authenticator (`manage.py create_staff`) before they can sign in.
            user.is_staff = role in STAFF_ROLES
            user.is_superuser = role in ADMIN_ROLES
            fields += ["role", "is_staff", "is_superuser"]
        if "is_active" in changes:
            user.is_active = is_active
            fields.append("is_active")
        user.save(update_fields=fields)
        if user.is_active is False:
            outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
            BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in outstanding],
                                                 ignore_conflicts=True)
        audit_record(action="user.updated", actor=actor, target=user, data=changes)
        # Sessions that outlive a request (WebSockets) re-check themselves: the user's own, and
        # those impersonated by this user (notifications.handlers).
        outbox_publish(topic="user.access_changed", payload={"user_id": user.pk})
    return user


@dataclass(frozen=True)
class Impersonation:
    user: User
    access: str
    expires_at: object  # aware datetime


IMPERSONATION_LIFETIME = timedelta(minutes=15)


def impersonation_start(*, actor: User, user_id: int, reason: str) -> Impersonation:
    """A super admin signs in as a non-staff user (support). The access token carries the
    impersonator (`act` claim, RFC 8693), lives 15 minutes and comes with no refresh
    token; `accounts.authentication` refuses it on staff paths and audits every request made
    with it. Publishes `impersonation.started` so the user is told."""
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.authentication import ACTOR_CLAIM
    from accounts.errors import ImpersonationForbidden
    from core.errors import InvalidInput, NotFound, PermissionDenied
    from core.outbox import outbox_publish

    if actor.role != Role.SUPER_ADMIN or not actor.is_active:
        raise PermissionDenied("Only a super admin may impersonate.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why you need to impersonate this user.", attr="reason")
    with transaction.atomic():
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            raise NotFound("No such user.")
        if user.pk == actor.pk or user.role in STAFF_ROLES:
            raise ImpersonationForbidden("Staff users cannot be impersonated.")
        if not user.is_active:
            raise ImpersonationForbidden("A deactivated user cannot be impersonated.")
        token = AccessToken.for_user(user)
        token.set_exp(lifetime=IMPERSONATION_LIFETIME)
        token["role"] = user.role
        token[ACTOR_CLAIM] = {"sub": str(actor.pk)}
        expires_at = dt_from_timestamp(token["exp"])
        audit_record(action="impersonation.started", actor=actor, target=user, impersonator=actor,
                     data={"reason": reason, "jti": token["jti"], "expires_at": expires_at.isoformat()})
        outbox_publish(topic="impersonation.started", payload={"user_id": user.pk, "impersonator_id": actor.pk})
    return Impersonation(user=user, access=str(token), expires_at=expires_at)


def dt_from_timestamp(timestamp: int):
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
