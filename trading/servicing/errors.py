from core.errors import Conflict, DomainError, InvalidState


class RepaymentReferenceReused(Conflict):
    code = "repayment_reference_reused"
    default_detail = "This reference was already used for another repayment of the offering."


class OfferingNotServiceable(InvalidState):
    code = "offering_not_serviceable"
    default_detail = "The offering cannot take this action in its current state."


class DeclarationInvalid(DomainError):
    code = "declaration_invalid"
    default_detail = "The declaration cannot be accepted."


class DeclarationExists(Conflict):
    code = "declaration_exists"
    default_detail = "A declaration for this financial year is already pending or accepted."


class NoTaxRule(InvalidState):
    code = "tax_rule_missing"
    default_detail = "No TDS rule is in force on this date."
