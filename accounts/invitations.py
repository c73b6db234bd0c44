"""Invitations: the only way a user joins an organization, or one of its objects, on someone
else's initiative.

An organization admin invites a phone number (`invitation_create`); the user who signs in
with that phone sees it (`invitation_list_for_user`) and accepts or declines it. Nothing
changes before they accept, and nothing in the answer to the admin depends on whether the
phone belongs to anyone, or to whom: an invitation is never an oracle and never a side
channel into another tenant. The alternative, for people already in the organization, is to
choose among its members (`organization_member_get`), which also answers the same for an
unknown user and for one of another organization.

Scopes. An invitation may carry a scope: an object of the organization the user joins with a
role (`party` in invoices; later a sales team, a broker desk). The app that owns the object
registers the scope once, from its `AppConfig.ready()`:

    invitation_scope_register(InvitationScope(
        name="party", roles=PartyRole.values,
        resolve=lambda organization, scope_id: Party.objects.filter(organization=organization, pk=scope_id).first(),
        labels=lambda ids: dict(Party.objects.filter(pk__in=ids).values_list("pk", "legal_name")),  # one query
        accept=lambda invitation, user: party_member_join(...),   # runs inside the accept transaction
    ))

and offers an endpoint that calls `invitation_create(..., scope="party", scope_id=…, scope_role=…)`.
Accepting makes the user a member of the organization (with the invitation's organization
role) and then calls the scope's `accept`, in one transaction.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.enums import InvitationStatus, OrganizationRole
from accounts.models import Invitation, Organization, OrganizationMembership, User
from accounts.phone import normalize_phone
from accounts.tenancy import organization_membership_ensure
from core.audit import audit_record
from core.errors import InvalidInput, InvalidState, NotFound


@dataclass(frozen=True)
class InvitationScope:
    name: str
    roles: Iterable[str]
    resolve: Callable[[Organization, int], models.Model | None]
    labels: Callable[[list[int]], dict[int, str]]
    accept: Callable[[Invitation, User], None]


_SCOPES: dict[str, InvitationScope] = {}


def invitation_scope_register(scope: InvitationScope) -> None:
    _SCOPES[scope.name] = scope


def _scope(name: str) -> InvitationScope:
    try:
        return _SCOPES[name]
    except KeyError:
        raise InvalidInput(f"No invitation scope {name!r}.", attr="scope") from None


def invitation_create(*, organization: Organization, actor: User, phone: str,
                      organization_role: str = OrganizationRole.MEMBER, scope: str = "", scope_id: int = 0,
                      scope_role: str = "") -> Invitation:
    """Invite `phone` (the caller has checked that `actor` is an admin of `organization`). A
    pending invitation for the same phone and object is renewed, not duplicated."""
    phone = normalize_phone(phone)
    if organization_role not in OrganizationRole.values:
        raise InvalidInput(f"role must be one of {', '.join(OrganizationRole.values)}.", attr="organization_role")
    if scope:
        definition = _scope(scope)
        if scope_role not in definition.roles:
            raise InvalidInput(f"role must be one of {', '.join(definition.roles)}.", attr="role")
        if definition.resolve(organization, scope_id) is None:
            raise NotFound(f"No such {scope}.")
    else:
        scope_id, scope_role = 0, ""
    expires_at = timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)
    with transaction.atomic():
        _expire_stale(organization=organization, phone=phone)
        invitation = Invitation.objects.select_for_update().filter(
            organization=organization, phone=phone, scope=scope, scope_id=scope_id,
            status=InvitationStatus.PENDING).first()
        if invitation is None:
            try:
                with transaction.atomic():
                    invitation = Invitation.objects.create(
                        organization=organization, phone=phone, organization_role=organization_role, scope=scope,
                        scope_id=scope_id, scope_role=scope_role, invited_by=actor, expires_at=expires_at)
            except IntegrityError:  # the same invitation, made at the same moment by another admin
                invitation = Invitation.objects.get(organization=organization, phone=phone, scope=scope,
                                                    scope_id=scope_id, status=InvitationStatus.PENDING)
        else:
            invitation.organization_role, invitation.scope_role = organization_role, scope_role
            invitation.invited_by, invitation.expires_at = actor, expires_at
            invitation.save(update_fields=["organization_role", "scope_role", "invited_by", "expires_at"])
        audit_record(action="invitation.created", actor=actor, target=invitation,
                     data={"organization_id": organization.pk, "scope": scope, "scope_id": scope_id,
                           "role": scope_role or organization_role})
    return invitation


def _expire_stale(*, organization: Organization, phone: str) -> None:
    """A pending invitation past its time is revoked, so a new one can take its place."""
    Invitation.objects.filter(organization=organization, phone=phone, status=InvitationStatus.PENDING,
                              expires_at__lte=timezone.now()).update(status=InvitationStatus.REVOKED,
                                                                    decided_at=timezone.now())


def invitation_list_for_organization(*, organization: Organization, scope: str = "",
                                     scope_id: int = 0) -> models.QuerySet[Invitation]:
    return Invitation.objects.filter(organization=organization, scope=scope, scope_id=scope_id).order_by("-id")


def invitation_revoke(*, organization: Organization, actor: User, invitation_id: int) -> Invitation:
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(organization=organization,
                                                                   pk=invitation_id).first()
        if invitation is None:
            raise NotFound("No such invitation.")
        if invitation.status != InvitationStatus.PENDING:
            raise InvalidState(f"The invitation is already {invitation.status}.")
        invitation.status, invitation.decided_at = InvitationStatus.REVOKED, timezone.now()
        invitation.save(update_fields=["status", "decided_at"])
        audit_record(action="invitation.revoked", actor=actor, target=invitation)
    return invitation


def invitation_list_for_user(*, user: User) -> list[tuple[Invitation, str]]:
    """The invitations waiting for the caller's phone, each with what it invites them to. One
    query, and one more per kind of scope among them."""
    invitations = list(Invitation.objects.select_related("organization").filter(
        phone=user.phone, status=InvitationStatus.PENDING, expires_at__gt=timezone.now()).order_by("-id"))
    labels: dict[tuple[str, int], str] = {}
    for scope in {invitation.scope for invitation in invitations if invitation.scope in _SCOPES}:
        ids = [invitation.scope_id for invitation in invitations if invitation.scope == scope]
        labels.update({(scope, pk): label for pk, label in _SCOPES[scope].labels(ids).items()})
    rows = []
    for invitation in invitations:
        label = labels.get((invitation.scope, invitation.scope_id))
        rows.append((invitation, f"{invitation.organization.name}: {label}" if label else invitation.organization.name))
    return rows


def _own_pending(*, user: User, invitation_id: int) -> Invitation:
    """The caller's own pending invitation, locked; anyone else's is the same 404 as none."""
    invitation = (Invitation.objects.select_for_update().select_related("organization")
                  .filter(pk=invitation_id, phone=user.phone).first())
    if invitation is None:
        raise NotFound("No such invitation.")
    if invitation.status != InvitationStatus.PENDING:
        raise InvalidState(f"The invitation is {invitation.status}.")
    if invitation.expires_at <= timezone.now() or not invitation.organization.is_active:
        raise InvalidState("The invitation has expired; ask for a new one.", code="invitation_expired")
    return invitation


def invitation_accept(*, user: User, invitation_id: int) -> Invitation:
    """Join the organization (and the invitation's object). Locks the invitation."""
    with transaction.atomic():
        invitation = _own_pending(user=user, invitation_id=invitation_id)
        organization_membership_ensure(organization=invitation.organization, user=user,
                                       role=invitation.organization_role)
        if invitation.scope:
            _scope(invitation.scope).accept(invitation, user)
        invitation.status, invitation.accepted_by = InvitationStatus.ACCEPTED, user
        invitation.decided_at = timezone.now()
        invitation.save(update_fields=["status", "accepted_by", "decided_at"])
        audit_record(action="invitation.accepted", actor=user, target=invitation,
                     data={"organization_id": invitation.organization_id, "scope": invitation.scope,
                           "scope_id": invitation.scope_id})
    return invitation


def invitation_decline(*, user: User, invitation_id: int) -> Invitation:
    with transaction.atomic():
        invitation = _own_pending(user=user, invitation_id=invitation_id)
        invitation.status, invitation.decided_at = InvitationStatus.DECLINED, timezone.now()
        invitation.save(update_fields=["status", "decided_at"])
        audit_record(action="invitation.declined", actor=user, target=invitation)
    return invitation


def organization_member_get(*, organization: Organization, user_id) -> User:
    """An active member of `organization`; an unknown user and one who is not a member (of
    this organization, whoever they are elsewhere) are the same error, on `user`."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        user_id = 0
    user = User.objects.filter(pk=user_id, is_active=True,
                               organization_memberships__organization=organization).first()
    if user is None:
        raise InvalidInput("No such member of your organization.", code="does_not_exist", attr="user")
    return user


def organization_member_list(*, organization: Organization) -> models.QuerySet[OrganizationMembership]:
    return (OrganizationMembership.objects.filter(organization=organization).select_related("user")
            .order_by("id"))


def organization_default_set(*, user: User, slug: str) -> OrganizationMembership:
    """The organization the user's requests act in when they name none."""
    with transaction.atomic():
        membership = (OrganizationMembership.objects.select_for_update()
                      .filter(user=user, organization__slug=slug, organization__is_active=True).first())
        if membership is None:
            raise NotFound(f"No organization {slug!r}.", code="organization_not_found")
        OrganizationMembership.objects.filter(user=user, is_default=True).exclude(pk=membership.pk).update(
            is_default=False)
        if not membership.is_default:
            membership.is_default = True
            membership.save(update_fields=["is_default"])
    return membership
