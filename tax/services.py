"""Tax writes: an investor's Form 15G/15H and staff's decision on it, and the deduction row
an income line's TDS decision becomes (called by servicing inside its distribution's
transaction; funds will call it the same way).
"""


from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import audit_record
from core.duties import duty_check_not_own
from core.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from core.retry import retry_on_deadlock
from core.uploads import PDF, upload_check
from tax import rules
from tax.enums import DeclarationForm, DeclarationStatus
from tax.errors import DeclarationExists, DeclarationInvalid
from tax.models import TaxDeclaration, TaxRule, TDSDeduction


def tds_deduction_record(*, user_id: int, source_type: str, source_id: int, rule: TaxRule, financial_year: str,
                         pan: rules.PanInfo, decision: rules.TdsDecision, day) -> TDSDeduction | None:
    """Write the deduction row for one income line, when its decision has one (a deduction, or
    the interest a declaration covered); None otherwise. Runs in the caller's transaction;
    one row per (source_type, source_id), enforced by a unique constraint."""
    if decision.reason is None:
        return None
    return TDSDeduction.objects.create(
        user_id=user_id, source_type=source_type, source_id=source_id, tax_rule=rule, section=rule.section,
        financial_year=financial_year, pan_masked=pan.masked, pan_index=pan.index, pan_valid=pan.valid,
        reason=decision.reason, gross=decision.base, rate=decision.rate, tds=decision.tds,
        net=decision.base - decision.tds, deducted_on=day,
    )


# --- Form 15G/15H ----------------------------------------------------------------------------

MAX_DECLARATION_BYTES = 5 * 1024 * 1024


def tax_declaration_submit(*, user, financial_year: str, form: str, file) -> TaxDeclaration:
    """An investor uploads Form 15G/15H (PDF, ≤ 5 MB) for a financial year; staff review it.
    One live (pending or accepted) declaration per year."""
    try:
        rules.financial_year_bounds(financial_year)
    except ValueError as exc:
        raise InvalidInput(str(exc), attr="financial_year") from None
    if form not in DeclarationForm.values:
        raise InvalidInput("The form must be 15G or 15H.", attr="form")
    checked = upload_check(file, allowed={PDF}, max_bytes=MAX_DECLARATION_BYTES, attr="file",
                           error=DeclarationInvalid)
    if TaxDeclaration.objects.filter(user=user, financial_year=financial_year).exclude(
            status=DeclarationStatus.REJECTED).exists():
        raise DeclarationExists()
    declaration = TaxDeclaration(user=user, financial_year=financial_year, form=form, sha256=checked.sha256)
    declaration.file.save(checked.stored_name, file, save=False)
    try:
        with transaction.atomic():
            declaration.save()
            audit_record(action="tax_declaration.submitted", actor=user, target=declaration,
                         data={"financial_year": financial_year, "form": form})
    except IntegrityError:
        declaration.file.delete(save=False)
        raise DeclarationExists() from None
    except Exception:
        declaration.file.delete(save=False)
        raise
    return declaration


def _is_tax_reviewer(user) -> bool:
    from kyc.permissions import is_kyc_reviewer

    return is_kyc_reviewer(user)


@retry_on_deadlock
def tax_declaration_decide(*, actor, declaration_id: int, accept: bool, note: str = "") -> TaxDeclaration:
    """Staff accept or reject a pending declaration. Accepted, it applies to credits from
    then on in its financial year."""
    if not _is_tax_reviewer(actor):
        raise PermissionDenied()
    with transaction.atomic():
        declaration = TaxDeclaration.objects.select_for_update().filter(pk=declaration_id).first()
        if declaration is None:
            raise NotFound("No such declaration.")
        duty_check_not_own(actor=actor, submitter_id=declaration.user_id)
        if declaration.status != DeclarationStatus.PENDING:
            raise InvalidState(f"The declaration is already {declaration.status}.")
        declaration.status = DeclarationStatus.ACCEPTED if accept else DeclarationStatus.REJECTED
        declaration.note = (note or "")[:255]
        declaration.decided_by = actor
        declaration.decided_at = timezone.now()
        declaration.save(update_fields=["status", "note", "decided_by", "decided_at"])
        audit_record(action=f"tax_declaration.{declaration.status}", actor=actor, target=declaration,
                     data={"financial_year": declaration.financial_year, "form": declaration.form, "note": note})
    return declaration
