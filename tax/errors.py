from core.errors import Conflict, DomainError, InvalidState


class DeclarationInvalid(DomainError):
    code = "declaration_invalid"
    default_detail = "The declaration cannot be accepted."


class DeclarationExists(Conflict):
    code = "declaration_exists"
    default_detail = "A declaration for this financial year is already pending or accepted."


class NoTaxRule(InvalidState):
    code = "tax_rule_missing"
    default_detail = "No TDS rule is in force on this date."
