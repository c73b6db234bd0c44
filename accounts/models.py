from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from accounts.enums import STAFF_ROLES, InvitationStatus, OrganizationRole, Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **fields):
        from accounts.phone import normalize_phone

        user = self.model(phone=normalize_phone(phone), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **fields):
        fields.update(role=Role.SUPER_ADMIN, is_staff=True, is_superuser=True)
        return self.create_user(phone, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """One user per phone number (E.164). Investors sign in by SMS OTP; staff add TOTP."""

    phone = models.CharField(max_length=16, unique=True)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.INVESTOR)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log in to the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=("role", "date_joined"))]

    def __str__(self) -> str:
        return self.name or self.phone

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES


class OtpChallenge(models.Model):
    """One sign-in code sent to a phone. The code itself is never stored, only its HMAC."""

    phone = models.CharField(max_length=16)
    code_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=("phone", "created_at")),
            models.Index(fields=("ip", "created_at")),
        ]

    def __str__(self) -> str:
        return f"OTP for {self.phone} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class Organization(models.Model):
    """A tenant: the operator of financing programs. The platform itself is the first one
    (slug `platform`, created by a migration). Primary-platform data carries a required
    foreign key to it, and every read is scoped through `accounts.tenancy`."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name


class OrganizationMembership(models.Model):
    """Users are global; they join organizations here. A user's organization is always
    resolved from these rows, never from a value the client sends in a body."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="organization_memberships")
    role = models.CharField(max_length=16, choices=OrganizationRole.choices, default=OrganizationRole.MEMBER)
    # The organization a request acts in when it names none (`X-Organization`); without a
    # default, the user's first membership (accounts.tenancy).
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=("organization", "user"), name="accounts_orgmembership_org_user_uniq"),
            models.UniqueConstraint(fields=("user",), condition=models.Q(is_default=True),
                                    name="accounts_orgmembership_one_default"),
        ]
        indexes = [models.Index(fields=("user", "organization"), name="accounts_orgmember_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Invitation(models.Model):
    """An organization's invitation to a phone number, to join the organization and, with a
    `scope`, one of its objects (a party, later a sales team or a desk): nothing happens until
    the user with that phone accepts it (`accounts.invitations`). An invitation never says
    whether the phone belongs to anyone, and creating one changes no membership."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="invitations")
    phone = models.CharField(max_length=16)
    organization_role = models.CharField(max_length=16, choices=OrganizationRole.choices,
                                         default=OrganizationRole.MEMBER)
    scope = models.CharField(max_length=32, blank=True, help_text="Empty: the organization itself; else e.g. party.")
    scope_id = models.PositiveBigIntegerField(default=0, help_text="0 with no scope.")
    scope_role = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "phone", "scope", "scope_id"), condition=models.Q(status="pending"),
                name="accounts_invitation_one_pending",
            ),
        ]
        indexes = [
            models.Index(fields=("phone", "status"), name="accounts_invitation_phone_idx"),
            models.Index(fields=("organization", "status"), name="accounts_invitation_org_idx"),
        ]

    def __str__(self) -> str:
        target = f"{self.scope} {self.scope_id}" if self.scope else "the organization"
        return f"{self.phone} to {target} of {self.organization} ({self.status})"
