from core.errors import Conflict, InvalidState


class RepaymentReferenceReused(Conflict):
    code = "repayment_reference_reused"
    default_detail = "This reference was already used for another repayment of the offering."


class OfferingNotServiceable(InvalidState):
    code = "offering_not_serviceable"
    default_detail = "The offering cannot take this action in its current state."
