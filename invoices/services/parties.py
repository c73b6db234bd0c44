"""Parties and their members (admin actions)."""

from django.db import IntegrityError, transaction

from accounts.invitations import InvitationScope, invitation_create, invitation_scope_register, organization_member_get
from accounts.models import Organization, User
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, NotFound
from core.validators import check, validate_gstin, validate_pan
from invoices.enums import MAX_SIGNATURES, PartyRole
from invoices.models import Party, PartyMembership, party_identifiers

# Never written to the audit trail in clear (it would undo their encryption at rest).
IDENTIFIERS = frozenset({"pan", "pan_index", "gstin", "gstin_index"})


def _validated_identifiers(*, pan: str, gstin: str) -> tuple[str, str]:
    pan = check(validate_pan, pan, attr="pan")
    gstin = check(validate_gstin, gstin, attr="gstin", pan=pan) if gstin else ""
    return pan, gstin


def _check_signatures(signatures_required: int) -> None:
    if not 1 <= signatures_required <= MAX_SIGNATURES:
        raise InvalidInput(f"signatures_required must be 1 to {MAX_SIGNATURES}.", attr="signatures_required")


def party_create(*, organization: Organization, actor: User | None, legal_name: str, pan: str, kind: str,
                 gstin: str = "", signatures_required: int = 1) -> Party:
    """A business in the organization. PAN and GSTIN are validated with the KYC validators
    (the GSTIN must embed the PAN); both are unique within the organization."""
    pan, gstin = _validated_identifiers(pan=pan, gstin=gstin)
    _check_signatures(signatures_required)
    try:
        with transaction.atomic():
            party = Party.objects.create(organization=organization, legal_name=legal_name, kind=kind,
                                         signatures_required=signatures_required,
                                         **party_identifiers(pan=pan, gstin=gstin))
            audit_record(action="invoices.party_created", actor=actor, target=party,
                         data={"organization_id": organization.pk, "kind": kind})
    except IntegrityError as exc:
        raise Conflict("A party with this PAN or GSTIN already exists in the organization.",
                       code="party_exists") from exc
    return party


def party_update(*, party: Party, actor: User | None, legal_name: str | None = None, gstin: str | None = None,
                 kind: str | None = None, signatures_required: int | None = None,
                 is_active: bool | None = None) -> Party:
    """Change a party. A new `signatures_required` applies to requests made from now on
    (each request keeps the number it was created with)."""
    changes: dict = {}
    if legal_name is not None:
        changes["legal_name"] = legal_name
    if gstin is not None:
        pan, gstin = _validated_identifiers(pan=party.pan, gstin=gstin)
        identifiers = party_identifiers(pan=pan, gstin=gstin)
        changes.update(gstin=identifiers["gstin"], gstin_index=identifiers["gstin_index"])
    if kind is not None:
        changes["kind"] = kind
    if signatures_required is not None:
        _check_signatures(signatures_required)
        changes["signatures_required"] = signatures_required
    if is_active is not None:
        changes["is_active"] = is_active
    if not changes:
        return party
    try:
        with transaction.atomic():
            Party.objects.filter(pk=party.pk).update(**changes)
            audit_record(action="invoices.party_updated", actor=actor, target=party,
                         data={key: "changed" if key in IDENTIFIERS else str(value)
                               for key, value in changes.items()})
    except IntegrityError as exc:
        raise Conflict("Another party of the organization has this GSTIN.", code="party_exists") from exc
    party.refresh_from_db()
    return party


def party_member_add(*, party: Party, user: User, role: str, actor: User | None) -> PartyMembership:
    """Add (or change the role of) a party's member, who must already be a member of the
    party's organization: nobody joins an organization as a side effect. Anyone else joins by
    accepting an invitation (`party_invite`, `accounts.invitations`)."""
    if role not in PartyRole.values:
        raise InvalidInput(f"role must be one of {', '.join(PartyRole.values)}.", attr="role")
    with transaction.atomic():
        organization_member_get(organization=party.organization, user_id=user.pk)  # the same 400 as unknown
        membership, created = PartyMembership.objects.update_or_create(
            organization=party.organization, party=party, user=user, defaults={"role": role}
        )
        audit_record(action="invoices.party_member_added", actor=actor, target=party,
                     data={"user_id": user.pk, "role": role, "created": created})
    return membership


def party_member_remove(*, party: Party, user_id: int, actor: User | None) -> None:
    """Remove a member. Signatures they already gave stay (they were valid when given)."""
    with transaction.atomic():
        deleted, _ = PartyMembership.objects.filter(organization=party.organization, party=party,
                                                    user_id=user_id).delete()
        if not deleted:
            raise NotFound("This user is not a member of the party.")
        audit_record(action="invoices.party_member_removed", actor=actor, target=party, data={"user_id": user_id})


# --- Invitations: how someone outside the organization becomes a party's member -------------

PARTY_SCOPE = "party"


def party_invite(*, party: Party, actor: User, phone: str, role: str):
    """Invite a phone number to act for the party; they join when they accept."""
    return invitation_create(organization=party.organization, actor=actor, phone=phone, scope=PARTY_SCOPE,
                             scope_id=party.pk, scope_role=role)


def _party_invitation_accepted(invitation, user: User) -> None:
    party = Party.objects.filter(organization=invitation.organization, pk=invitation.scope_id).first()
    if party is None:
        raise NotFound("The party of this invitation no longer exists.")
    party_member_add(party=party, user=user, role=invitation.scope_role, actor=user)


def party_invitation_scope_register() -> None:
    """Called once from InvoicesConfig.ready()."""
    invitation_scope_register(InvitationScope(
        name=PARTY_SCOPE, roles=tuple(PartyRole.values),
        resolve=lambda organization, scope_id: Party.objects.filter(organization=organization, pk=scope_id).first(),
        labels=lambda ids: dict(Party.objects.filter(pk__in=ids).values_list("pk", "legal_name")),
        accept=_party_invitation_accepted,
    ))
