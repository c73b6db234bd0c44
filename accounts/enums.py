from django.db import models


class Role(models.TextChoices):
    INVESTOR = "investor", "Investor"
    ADMIN = "admin", "Admin"
    SUPER_ADMIN = "super_admin", "Super admin"
    VERIFIER = "verifier", "Verifier"
    SALES = "sales", "Sales"
    TEAM_LEAD = "team_lead", "Team lead"
    DEALER = "dealer", "Dealer"


# Roles that must pass TOTP as a second factor (API sign-in and the Django admin).
STAFF_ROLES = frozenset(role for role in Role.values if role != Role.INVESTOR)


class OrganizationRole(models.TextChoices):
    """A user's role in a tenant. `admin` runs the organization's programs (parties,
    limits, disbursals, repayments); `member` sees only what their party memberships allow."""

    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class OnboardingStepStatus(models.TextChoices):
    """What `GET /me/` and the staff user list say of an onboarding step (KYC, bank account).
    The KYC app owns the steps; these are the words it may answer with (a test keeps them in
    step with `kyc.enums`), so accounts can validate a filter without importing kyc."""

    NOT_STARTED = "not_started", "Not started"
    PENDING = "pending", "Pending"
    MANUAL_REVIEW = "manual_review", "Manual review"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


PLATFORM_ORGANIZATION_SLUG = "platform"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"
