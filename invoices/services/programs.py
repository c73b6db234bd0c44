"""Programs and counterparties (admin actions).

Locks: a program row, then its counterparty rows in id order (the same order as finance
requests take them), whenever a limit or a used limit may change.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction

from accounts.models import Organization, User
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, InvalidState
from core.money import to_money
from invoices.enums import PROGRAM_TRANSITIONS, PartyKind
from invoices.errors import LimitExceeded
from invoices.models import Counterparty, Party, Program

PROGRAM_TERMS = ("max_limit_amount", "max_invoice_amount", "max_invoice_percent", "interest_rate",
                 "min_tenor_days", "max_tenor_days", "grace_days", "overdue_rate")


def _check_terms(terms: dict) -> None:
    for field in ("max_limit_amount", "max_invoice_amount"):
        if terms[field] <= 0:
            raise InvalidInput("Must be more than zero.", attr=field)
    if not Decimal(0) < terms["max_invoice_percent"] <= Decimal(100):
        raise InvalidInput("Must be more than 0 and at most 100.", attr="max_invoice_percent")
    for field in ("interest_rate", "overdue_rate"):
        if terms[field] < 0:
            raise InvalidInput("Must not be negative.", attr=field)
    if not 1 <= terms["min_tenor_days"] <= terms["max_tenor_days"]:
        raise InvalidInput("Tenor limits must satisfy 1 ≤ minimum ≤ maximum.", attr="min_tenor_days")


def program_create(*, organization: Organization, actor: User | None, name: str, kind: str, anchor: Party,
                   max_limit_amount: Decimal, max_invoice_amount: Decimal, max_invoice_percent: Decimal,
                   interest_rate: Decimal, min_tenor_days: int, max_tenor_days: int, overdue_rate: Decimal,
                   grace_days: int = 0) -> Program:
    """A program starts in `draft`; it takes finance requests once activated."""
    if anchor.organization_id != organization.pk:
        raise InvalidInput("No such party.", attr="anchor")
    if anchor.kind not in (PartyKind.ANCHOR, PartyKind.BOTH):
        raise InvalidInput("The anchor must be a party of kind anchor or both.", attr="anchor")
    terms = {
        "max_limit_amount": to_money(max_limit_amount), "max_invoice_amount": to_money(max_invoice_amount),
        "max_invoice_percent": max_invoice_percent, "interest_rate": interest_rate,
        "min_tenor_days": min_tenor_days, "max_tenor_days": max_tenor_days, "grace_days": grace_days,
        "overdue_rate": overdue_rate,
    }
    _check_terms(terms)
    try:
        with transaction.atomic():
            program = Program.objects.create(organization=organization, name=name, kind=kind, anchor=anchor, **terms)
            audit_record(action="invoices.program_created", actor=actor, target=program,
                         data={"organization_id": organization.pk, **{k: str(v) for k, v in terms.items()}})
    except IntegrityError as exc:
        raise Conflict("The organization already has a program with this name.", code="program_exists") from exc
    return program


def program_update(*, program: Program, actor: User | None, name: str | None = None, **changes) -> Program:
    """Change a program's terms. New terms apply to requests made from now on; the limit
    cannot go below what open requests already use. Locks the program row."""
    unknown = set(changes) - set(PROGRAM_TERMS)
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
    changes = {key: value for key, value in changes.items() if value is not None}
    with transaction.atomic():
        locked = Program.objects.select_for_update().get(pk=program.pk)
        terms = {field: getattr(locked, field) for field in PROGRAM_TERMS} | changes
        for field in ("max_limit_amount", "max_invoice_amount"):
            terms[field] = to_money(terms[field])
        _check_terms(terms)
        if terms["max_limit_amount"] < locked.used_limit:
            raise LimitExceeded(f"Open requests already use {locked.used_limit}; the limit cannot be lower.",
                                attr="max_limit_amount")
        for field, value in terms.items():
            setattr(locked, field, value)
        if name is not None:
            locked.name = name
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError as exc:
            raise Conflict("The organization already has a program with this name.", code="program_exists") from exc
        audit_record(action="invoices.program_updated", actor=actor, target=locked,
                     data={k: str(v) for k, v in changes.items()} | ({"name": name} if name else {}))
    return locked


def program_set_status(*, program: Program, status: str, actor: User | None) -> Program:
    """draft → active → suspended → active. A suspended program takes no new requests;
    requests already made carry on."""
    with transaction.atomic():
        locked = Program.objects.select_for_update().get(pk=program.pk)
        if status not in PROGRAM_TRANSITIONS.get(locked.status, set()):
            raise InvalidState(f"A {locked.status} program cannot become {status}.")
        previous = locked.status
        locked.status = status
        locked.save(update_fields=["status"])
        audit_record(action="invoices.program_status", actor=actor, target=locked,
                     data={"from": previous, "to": status})
    return locked


def counterparty_add(*, program: Program, party: Party, limit_amount: Decimal, actor: User | None) -> Counterparty:
    if party.organization_id != program.organization_id:
        raise InvalidInput("No such party.", attr="party")
    if party.pk == program.anchor_id:
        raise InvalidInput("The anchor cannot be its own program's counterparty.", attr="party")
    limit_amount = to_money(limit_amount)
    if limit_amount <= 0:
        raise InvalidInput("Must be more than zero.", attr="limit_amount")
    try:
        with transaction.atomic():
            counterparty = Counterparty.objects.create(organization_id=program.organization_id, program=program,
                                                       party=party, limit_amount=limit_amount)
            audit_record(action="invoices.counterparty_added", actor=actor, target=counterparty,
                         data={"program_id": program.pk, "party_id": party.pk, "limit_amount": str(limit_amount)})
    except IntegrityError as exc:
        raise Conflict("This party is already a counterparty of the program.", code="counterparty_exists") from exc
    return counterparty


def counterparty_update(*, counterparty: Counterparty, actor: User | None, limit_amount: Decimal | None = None,
                        is_active: bool | None = None) -> Counterparty:
    """Change a counterparty's limit (never below what it uses) or switch it off. Locks the
    program, then the counterparty."""
    with transaction.atomic():
        Program.objects.select_for_update().filter(pk=counterparty.program_id).first()
        locked = Counterparty.objects.select_for_update().get(pk=counterparty.pk)
        if limit_amount is not None:
            limit_amount = to_money(limit_amount)
            if limit_amount <= 0:
                raise InvalidInput("Must be more than zero.", attr="limit_amount")
            if limit_amount < locked.used_limit:
                raise LimitExceeded(f"Open requests already use {locked.used_limit}; the limit cannot be lower.",
                                    attr="limit_amount")
            locked.limit_amount = limit_amount
        if is_active is not None:
            locked.is_active = is_active
        locked.save(update_fields=["limit_amount", "is_active"])
        audit_record(action="invoices.counterparty_updated", actor=actor, target=locked,
                     data={"limit_amount": str(locked.limit_amount), "is_active": locked.is_active})
    return locked

