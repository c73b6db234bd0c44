"""Errors of the primary platform, each with a stable code (API.md lists the shared ones)."""

from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail

from core.errors import Conflict, DomainError, InvalidInput, InvalidState, PermissionDenied


class LimitExceeded(DomainError):
    code = "limit_exceeded"
    default_detail = "The request would exceed the limit."


class ProgramNotActive(InvalidState):
    code = "program_not_active"
    default_detail = "The program is not active."


class InvoiceInvalid(InvalidInput):
    code = "invoice_invalid"
    default_detail = "The invoice breaks a rule of its program."


class DuplicateInvoiceNumber(Conflict):
    code = "duplicate_invoice_number"
    default_detail = "This seller already has an invoice with this number."


class NotASignatory(PermissionDenied):
    code = "not_a_signatory"
    default_detail = "Only the party's administrators and supervisors may do this."


class AlreadySigned(Conflict):
    code = "already_signed"
    default_detail = "You have already signed this request; another signatory must sign the next step."


class RepaymentTooLarge(DomainError):
    code = "repayment_exceeds_outstanding"
    default_detail = "The repayment is more than what is outstanding."


class RepaymentReferenceReused(Conflict):
    code = "repayment_reference_reused"
    default_detail = "This reference was already used for a different repayment."


class BulkUploadInvalid(exceptions.ValidationError):
    """Some rows of a CSV upload are invalid; nothing was saved. Rendered as a validation
    error with one entry per problem, `attr` = `rows.<line>.<column>` (line 1 is the header)."""

    def __init__(self, row_errors: list[tuple[int, str, str, str]]):
        self.row_errors = row_errors
        detail: dict[str, dict[str, list[ErrorDetail]]] = {}
        for line, column, code, message in row_errors:
            detail.setdefault(str(line), {}).setdefault(column, []).append(ErrorDetail(message, code=code))
        super().__init__({"rows": detail})
