"""Every write of the primary platform. Split by subdomain; import from here."""

from invoices.services.financing import (
    REPAID_TOPIC,
    RepaymentRecorded,
    finance_request_create,
    finance_request_disburse,
    finance_request_reject,
    finance_request_sign,
    finance_terms,
    overdue_mark,
    party_signatory,
    repayment_record,
)
from invoices.services.invoices import counterparty_for, invoice_bulk_create, invoice_create
from invoices.services.parties import (
    PARTY_SCOPE,
    party_create,
    party_invite,
    party_member_add,
    party_member_remove,
    party_update,
)
from invoices.services.programs import (
    counterparty_add,
    counterparty_update,
    program_create,
    program_set_status,
    program_update,
)

__all__ = [
    "PARTY_SCOPE", "REPAID_TOPIC", "RepaymentRecorded", "counterparty_add", "counterparty_for", "counterparty_update",
    "finance_request_create", "finance_request_disburse", "finance_request_reject", "finance_request_sign",
    "finance_terms", "invoice_bulk_create", "invoice_create", "overdue_mark", "party_create", "party_invite",
    "party_member_add", "party_member_remove", "party_signatory", "party_update", "program_create",
    "program_set_status", "program_update", "repayment_record",
]
